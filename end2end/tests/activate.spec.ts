import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { collectProblems, gotoHydrated } from "./helpers";
import { ADMIN_TOKEN, internalURL, startActivation, viewerAddress } from "./tv-api";

// A viewer address of its own for every test (not one per file), so no test spends another's
// per-IP lookup budget.
test.use({
  extraHTTPHeaders: async ({}, use) => use({ "x-forwarded-for": viewerAddress() }),
});

async function noAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

test("code entry: one labelled input, instant validation after hydration", async ({ page }) => {
  const problems = collectProblems(page);
  await gotoHydrated(page, "/activate");
  const input = page.getByLabel("Code from your TV");
  await expect(input).toBeFocused();
  await input.fill("ab");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("codes have 7 letters and numbers");
  await expect(page).toHaveURL(/\/activate$/);
  await page.screenshot({ path: "../docs/screenshots/01-code-entry-error.png" });
  expect(problems).toEqual([]);
});

test("the code field opens a plain keyboard and takes a pasted code with spaces or dashes", async ({ page, request }) => {
  const tv = await startActivation(request);
  await gotoHydrated(page, "/activate");
  const input = page.getByLabel("Code from your TV");
  await expect(input).toHaveAttribute("inputmode", "text");
  await expect(input).toHaveAttribute("autocapitalize", "characters");
  await expect(input).toHaveAttribute("autocomplete", "off");
  await expect(input).toHaveAttribute("enterkeyhint", "go");
  const pasted = ` ${tv.code.slice(0, 3).toLowerCase()} - ${tv.code.slice(3)} `;
  await input.focus();
  await page.evaluate((text) => {
    const data = new DataTransfer();
    data.setData("text/plain", text);
    const field = document.activeElement as HTMLInputElement;
    field.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    field.value = text;
    field.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertFromPaste", data: text }));
  }, pasted);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("heading", { name: "Is this the code on your TV?" })).toBeVisible();
  await expect(page.locator(".code-shown")).toHaveText(tv.code);
});

test("an unknown code says to get a new one, with no-store and a same-origin referrer policy", async ({ page }) => {
  await gotoHydrated(page, "/activate");
  await page.getByLabel("Code from your TV").fill("zz9-zz9z");
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/activate?code=")),
    page.getByRole("button", { name: "Continue" }).click(),
  ]);
  expect(response.status()).toBe(404);
  expect(response.headers()["cache-control"]).toBe("no-store");
  expect(response.headers()["referrer-policy"]).toBe("same-origin");
  await expect(page.getByRole("alert")).toContainText("Get a new code on your TV");
  await page.screenshot({ path: "../docs/screenshots/02-unknown-code.png" });
});

test("the 11th rapid lookup from one address gets the friendly 429 page", async ({ browser }) => {
  const address = viewerAddress();
  const statuses: number[] = [];
  for (let i = 0; i < 11; i += 1) {
    // A new browser context each time: no session cookie, so only the per-IP limit applies.
    const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": address } });
    const page = await context.newPage();
    const response = await page.goto(`/activate?code=ZZZZ${String(i).padStart(3, "0")}`);
    statuses.push(response?.status() ?? 0);
    if (i === 10) {
      expect(Number(response?.headers()["retry-after"])).toBeGreaterThan(0);
      await expect(page.getByRole("heading", { name: "Too many tries" })).toBeVisible();
      await page.screenshot({ path: "../docs/screenshots/09-too-many-tries.png" });
    }
    await context.close();
  }
  expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
  expect(statuses[10]).toBe(429);
});

test("failed code guesses are counted at /metrics", async ({ page, request }) => {
  const failures = async () => {
    const text = await (await request.get(`${internalURL}/metrics`)).text();
    expect(text).toContain("# TYPE tve_activation_code_failures counter");
    return Number(/^tve_activation_code_failures_total (\d+)$/m.exec(text)?.[1]);
  };
  const before = await failures();
  expect(before).toBeGreaterThanOrEqual(0);
  for (const code of ["MMMM001", "MMMM002"]) {
    expect((await page.goto(`/activate?code=${code}`))?.status()).toBe(404);
  }
  expect(await failures()).toBe(before + 2);
});

test("ten failed codes from one address pause its lookups", async ({ page }) => {
  for (let i = 0; i < 10; i += 1) {
    const response = await page.goto(`/activate?code=YYYY${String(i).padStart(3, "0")}`);
    expect(response?.status()).toBe(404);
  }
  expect((await page.goto("/activate?code=YYYY999"))?.status()).toBe(429);
});

test("the language follows Accept-Language, and the switcher changes it", async ({ browser }) => {
  const context = await browser.newContext({ locale: "es-MX", extraHTTPHeaders: { "x-forwarded-for": viewerAddress() } });
  const page = await context.newPage();
  await gotoHydrated(page, "/activate");
  await expect(page.locator("html")).toHaveAttribute("lang", "es");
  await expect(page.getByLabel("Código de tu TV")).toBeVisible();
  await noAxeViolations(page);
  await page.getByRole("link", { name: "English" }).click();
  await expect(page.getByLabel("Code from your TV")).toBeVisible();
  await context.close();
});

test("axe finds no violations on the static pages, in English and Spanish", async ({ browser }) => {
  // Twelve full-page analyses: more than the default 30 s on a busy 2-core machine.
  test.setTimeout(120_000);
  for (const locale of ["en-US", "es-ES"]) {
    const context = await browser.newContext({ locale, extraHTTPHeaders: { "x-forwarded-for": viewerAddress() } });
    const page = await context.newPage();
    for (const path of ["/", "/activate", "/activate?code=QQQQ000", "/activate/cancelled", "/activate/complete?code=QQQQ001", "/tv"]) {
      await gotoHydrated(page, path);
      await noAxeViolations(page);
    }
    await context.close();
  }
});

test.describe("with a TV waiting", () => {
  test("Cancel at the confirmation ends the activation", async ({ page, request }) => {
    const tv = await startActivation(request);
    await gotoHydrated(page, `/activate?code=${tv.code}`);
    await expect(page.getByRole("heading", { name: "Is this the code on your TV?" })).toBeVisible();
    await expect(page.getByText("Only continue if this code is on a TV in front of you")).toBeVisible();
    await noAxeViolations(page);
    await page.screenshot({ path: "../docs/screenshots/03-confirm.png" });
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("heading", { name: "Cancelled" })).toBeVisible();
    const status = await request.get(`/tv/v1/activations/${tv.code}`, {
      headers: { authorization: `Bearer ${tv.deviceToken}` },
    });
    expect((await status.json()).status).toBe("cancelled");
  });

  test("a wrong password, then Cancel at the provider ends the code, then a new code works", async ({ page, request }) => {
    const tv = await startActivation(request);
    await gotoHydrated(page, tv.activationUrlComplete.replace(/^https?:\/\/[^/]+/, ""));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("heading", { name: "Choose your TV provider" })).toBeVisible();
    await noAxeViolations(page);
    await page.getByRole("button", { name: "Spectrum", exact: true }).first().click();
    await page.getByLabel("Username").fill("premium");
    await page.getByLabel("Password").fill("wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("The username or password is incorrect")).toBeVisible();
    // The provider's Cancel ends Adobe's session for this code: the page says so, and the
    // waiting TV learns at once that it needs a new code.
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("heading", { name: "This code can't be used" })).toBeVisible();
    await expect(page.getByRole("alert")).toContainText("Get a new code on your TV");
    await noAxeViolations(page);
    await page.screenshot({ path: "../docs/screenshots/07-cancelled-at-provider.png" });
    const status = await request.get(`/tv/v1/activations/${tv.code}`, {
      headers: { authorization: `Bearer ${tv.deviceToken}` },
    });
    expect((await status.json()).status).toBe("cancelled");

    const again = await startActivation(request);
    await gotoHydrated(page, again.activationUrlComplete.replace(/^https?:\/\/[^/]+/, ""));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("button", { name: "Continue with Spectrum" })).toBeVisible();
    await page.getByRole("button", { name: "Continue with Spectrum" }).click();
    await page.getByLabel("Username").fill("premium");
    await page.getByLabel("Password").fill("premium");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "You're all set: return to your TV" })).toBeVisible();
    await expect(page.getByText("Signed in with Spectrum.")).toBeVisible();
  });

  test("the happy path works with JavaScript off", async ({ browser, request }) => {
    const tv = await startActivation(request);
    const context = await browser.newContext({
      javaScriptEnabled: false,
      extraHTTPHeaders: { "x-forwarded-for": viewerAddress() },
    });
    const page = await context.newPage();
    await page.goto("/activate");
    await page.getByLabel("Code from your TV").fill(`${tv.code.slice(0, 3).toLowerCase()}-${tv.code.slice(3).toLowerCase()}`);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByText(tv.code, { exact: true })).toBeVisible();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Search providers").fill("fios");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("button", { name: "Fios by Verizon" }).click();
    await page.getByLabel("Username").fill("premium");
    await page.getByLabel("Password").fill("premium");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "You're all set: return to your TV" })).toBeVisible();
    await expect(page.getByText("Signed in with Fios by Verizon.")).toBeVisible();
    await context.close();
  });
});

test("forms need the page's CSRF token; Origin: null passes with it, a forged token never does", async ({ page, request }) => {
  const { code } = await startActivation(request);
  await page.goto(`/activate?code=${code}`);
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  expect(csrf.length).toBeGreaterThan(10);
  const post = (form: Record<string, string>, origin: string) =>
    page.context().request.post("/api/activate/confirm", {
      form,
      headers: { origin, accept: "text/html" },
      maxRedirects: 0,
    });
  expect((await post({ code, csrf: "forged" }, "null")).status()).toBe(403);
  expect((await post({ code, csrf }, "https://evil.example")).status()).toBe(403);
  const missing = await post({ code }, "null");
  expect(missing.headers()["location"] ?? "").not.toContain("/activate/provider");
  const older = await post({ code, csrf }, "null");
  expect(older.status()).toBe(302);
  expect(older.headers()["location"]).toBe(`/activate/provider?code=${code}`);

  // A page whose token was tampered with is refused when the viewer presses Continue.
  await page.goto(`/activate?code=${code}`);
  await page.locator('input[name="csrf"]').first().evaluate((field: HTMLInputElement) => (field.value = "forged"));
  const refused = page.waitForResponse((r) => r.url().includes("/api/activate/confirm"));
  await page.getByRole("button", { name: "Continue" }).click();
  expect((await refused).status()).toBe(403);
});

test("a relayed sign-in link: the victim is warned, sees the TV and signs it out", async ({ browser, request }) => {
  const tv = await startActivation(request, "Spectrum");
  // The attacker confirms his own TV's code, stops at the provider's sign-in and sends its
  // address to a victim.
  const attacker = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": viewerAddress() } });
  const attackerPage = await attacker.newPage();
  await attackerPage.goto(`/activate?code=${tv.code}`);
  await attackerPage.getByRole("button", { name: "Continue" }).click();
  await expect(attackerPage.getByLabel("Username")).toBeVisible();
  const link = attackerPage.url();
  await attacker.close();

  const victim = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": viewerAddress() } });
  const page = await victim.newPage();
  await page.goto(link);
  await page.getByLabel("Username").fill("premium");
  await page.getByLabel("Password").fill("premium");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Did you start this sign-in?" })).toBeVisible();
  await expect(page.getByText("Roku Ultra (Roku OS)")).toBeVisible();
  await expect(page.getByRole("heading", { name: "You're all set: return to your TV" })).toHaveCount(0);
  await noAxeViolations(page);
  await page.getByRole("button", { name: "This wasn't me: sign that TV out" }).click();
  await expect(page.getByRole("heading", { name: "That TV is signed out" })).toBeVisible();
  const profile = await request.get("/tv/v1/profile", {
    headers: { authorization: `Bearer ${tv.deviceToken}` },
  });
  expect((await profile.json()).authenticated).toBe(false);
  await victim.close();
});

test("an operator's notice shows beside the provider in the viewer's language, and goes", async ({ browser, request }) => {
  const setSpectrum = (data: object) =>
    request.put(`${internalURL}/admin/v1/providers/Spectrum`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      data: { changedBy: "e2e", reason: "notice spec", ...data },
    });
  const notice = await setSpectrum({
    state: "notice",
    message: { es: "Spectrum tiene problemas; pruebe más tarde." },
  });
  expect(notice.status()).toBe(200);
  const context = await browser.newContext({
    locale: "es-ES",
    extraHTTPHeaders: { "x-forwarded-for": viewerAddress() },
  });
  try {
    const page = await context.newPage();
    const tv = await startActivation(request);
    await gotoHydrated(page, tv.activationUrlComplete.replace(/^https?:\/\/[^/]+/, ""));
    await page.getByRole("button", { name: "Continuar" }).click();
    await expect(page.getByText("Spectrum tiene problemas; pruebe más tarde.").first()).toBeVisible();
    await noAxeViolations(page);
  } finally {
    await context.close();
    expect((await setSpectrum({ state: "normal" })).status()).toBe(200);
  }
  const tv = await startActivation(request);
  const list = await request.get("/tv/v1/providers", {
    headers: { authorization: `Bearer ${tv.deviceToken}` },
  });
  const spectrum = (await list.json()).providers.find((p: { id: string }) => p.id === "Spectrum");
  expect(spectrum.notice).toBeUndefined();
});
