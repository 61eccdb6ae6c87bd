import { expect, test } from "@playwright/test";
import { collectProblems, gotoHydrated } from "./helpers";

test("home page renders, hydrates under the CSP, and links onward", async ({ page }) => {
  const problems = collectProblems(page);
  const response = await gotoHydrated(page, "/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle(/· Demo Network$/);
  await expect(page.getByRole("heading", { level: 1, name: "Watch on your TV" })).toBeVisible();
  await expect(page.getByRole("link", { name: /I have a code on my TV/ })).toHaveAttribute("href", "/activate");
  await expect(page.getByRole("link", { name: /TV simulator/ })).toHaveAttribute("href", "/tv");
  // A CSP violation of the hydration scripts or the wasm would show up here.
  expect(problems).toEqual([]);
});

test("home page carries the security headers", async ({ request }) => {
  const response = await request.get("/");
  const headers = response.headers();
  const csp = headers["content-security-policy"];
  expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9_-]+' 'strict-dynamic' 'wasm-unsafe-eval'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("same-origin");
  expect(headers["x-request-id"]).toBeTruthy();
  // The nonce in the header is the one on the page's inline scripts.
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  const body = await response.text();
  expect(body).toContain(`nonce="${nonce}"`);
});

test("an unknown address answers 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to the start page" })).toHaveAttribute("href", "/");
});
