import { expect, type Page } from "@playwright/test";

/** Opens `path` and waits until the wasm has hydrated the page (clicks before that do nothing). */
export async function gotoHydrated(page: Page, path: string) {
  const response = await page.goto(path);
  await expect(page.locator("body[data-hydrated]")).toBeAttached({ timeout: 15_000 });
  return response;
}

/** Collects the page's console errors and failed requests, to assert a clean load. */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ""}`),
  );
  return problems;
}
