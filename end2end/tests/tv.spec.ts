import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { gotoHydrated } from "./helpers";
import { viewerAddress } from "./tv-api";

/**
 * The TV simulator (`/tv`) and a phone, each in its own browser context (and its own address,
 * so rate limits of one never touch the other), through the whole activation.
 */

const shots = "../docs/screenshots";

/** A fresh browser context at an address of its own, and a page in it. */
async function device(browser: Browser, options: { phone?: boolean } = {}) {
  const context = await browser.newContext({
    extraHTTPHeaders: { "x-forwarded-for": viewerAddress() },
    ...(options.phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : {}),
  });
  return { context, page: await context.newPage() };
}

/** Opens the TV simulator and waits for its code; returns the code as the TV shows it. */
async function tvShowsCode(tv: Page) {
  await gotoHydrated(tv, "/tv");
  const code = tv.getByTestId("tv-code");
  await expect(code).toHaveText(/^[A-Z0-9]{7}$/, { timeout: 15_000 });
  await expect(tv.getByRole("img", { name: /QR code/ })).toBeVisible();
  return (await code.textContent())?.trim() ?? "";
}

/** The TV's `activationUrlComplete`, read back from its QR code. */
async function decodeQr(tv: Page) {
  const image = PNG.sync.read(await tv.getByRole("img", { name: /QR code/ }).screenshot());
  const found = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(found, "the QR code decodes").not.toBeNull();
  return found?.data ?? "";
}

/** The phone signs in at the mock provider login and lands on the success page. */
async function signInAtProvider(phone: Page, username: string, password = username) {
  await expect(phone.getByRole("heading", { name: /^Sign in to / })).toBeVisible();
  await phone.getByLabel("Username").fill(username);
  await phone.getByLabel("Password").fill(password);
  await phone.getByRole("button", { name: "Sign in" }).click();
  await expect(phone.getByRole("heading", { name: "You're all set: return to your TV" })).toBeVisible();
}

/** Confirms the code shown on the phone, then picks `provider` by searching for `search`. */
async function confirmAndPick(phone: Page, code: string, search: string, provider: string) {
  await expect(phone.getByRole("heading", { name: "Is this the code on your TV?" })).toBeVisible();
  await expect(phone.getByText(code, { exact: true })).toBeVisible();
  await phone.getByRole("button", { name: "Continue" }).click();
  await expect(phone.getByRole("heading", { name: "Choose your TV provider" })).toBeVisible();
  await expect(phone.locator("body[data-hydrated]")).toBeAttached({ timeout: 15_000 });
  const list = phone.locator("#provider-list");
  // The search island filters as you type, and says so when nothing matches.
  await phone.getByLabel("Search providers").fill("no such provider");
  await expect(list.getByRole("button").filter({ visible: true })).toHaveCount(0);
  await expect(phone.getByRole("status")).toHaveText(/No provider/);
  await phone.getByLabel("Search providers").fill(search);
  await expect(phone.getByRole("status")).toHaveText("");
  await expect(list.getByRole("button", { name: provider, exact: true })).toBeVisible();
  await expect(list.getByRole("button").filter({ visible: true })).toHaveCount(1);
  return list.getByRole("button", { name: provider, exact: true });
}

/** The TV shows the catalogue within 2 s of the phone's success. */
async function tvSignedIn(tv: Page, provider: string) {
  await expect(tv.getByTestId("tv-provider")).toHaveText(`Signed in with ${provider}`, { timeout: 2_000 });
}

async function play(tv: Page, resource: string) {
  await tv.getByRole("button", { name: `Play ${resource}` }).click();
  const status = tv.getByTestId("play-status");
  // While asking, the status reads "<resource>: …".
  await expect(status).not.toHaveText(`${resource}: …`, { timeout: 10_000 });
  await expect(status).toContainText(`${resource}: `);
  return status;
}

/** Activates a fresh TV with `username` at Spectrum over the QR link; returns the TV page. */
async function activatedTv(browser: Browser, username: string, contexts: BrowserContext[]) {
  const tv = await device(browser);
  const phone = await device(browser, { phone: true });
  contexts.push(tv.context, phone.context);
  await tvShowsCode(tv.page);
  const link = await decodeQr(tv.page);
  await gotoHydrated(phone.page, new URL(link).pathname + new URL(link).search);
  await phone.page.getByRole("button", { name: "Continue" }).click();
  await phone.page.getByRole("button", { name: "Spectrum", exact: true }).first().click();
  await signInAtProvider(phone.page, username);
  await tvSignedIn(tv.page, "Spectrum");
  return tv.page;
}

test("the TV shows a 10-foot screen: code and QR code large, light on black, clean for axe in both languages", async ({ browser }) => {
  for (const size of [{ width: 1280, height: 720 }, { width: 1920, height: 1080 }]) {
    const context = await browser.newContext({ viewport: size, extraHTTPHeaders: { "x-forwarded-for": viewerAddress() } });
    const tv = await context.newPage();
    await tvShowsCode(tv);
    const layout = await tv.evaluate(() => {
      const code = document.querySelector("[data-testid=tv-code]") as HTMLElement;
      const qr = document.querySelector("img.qr") as HTMLElement;
      return {
        codeFont: parseFloat(getComputedStyle(code).fontSize),
        qrWidth: qr.getBoundingClientRect().width,
        qrBottom: qr.getBoundingClientRect().bottom,
        background: getComputedStyle(document.body).backgroundColor,
        color: getComputedStyle(code).color,
      };
    });
    // Readable from a sofa: the code's letters are at least 5% of the screen's width high, the
    // QR code takes about a third of it, both without scrolling.
    expect(layout.codeFont).toBeGreaterThanOrEqual(size.width * 0.05);
    expect(layout.qrWidth).toBeGreaterThanOrEqual(size.width * 0.25);
    expect(layout.qrBottom).toBeLessThanOrEqual(size.height);
    expect(layout.background).toBe("rgb(0, 0, 0)");
    expect(layout.color).toBe("rgb(255, 255, 255)");
    await context.close();
  }
  for (const lang of ["en", "es"]) {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 720 },
      extraHTTPHeaders: { "x-forwarded-for": viewerAddress(), "accept-language": lang },
    });
    const tv = await context.newPage();
    await tvShowsCode(tv);
    const results = await new AxeBuilder({ page: tv }).analyze();
    expect(results.violations.map((v) => `${lang} ${v.id}: ${v.help}`)).toEqual([]);
    await context.close();
  }
});

test.describe("the TV simulator with a phone", () => {
  const contexts: BrowserContext[] = [];
  test.afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  test("typed code: the TV turns authenticated within 2 s, plays REF30, signs out", async ({ browser }) => {
    test.setTimeout(60_000);
    const tv = await device(browser);
    const phone = await device(browser, { phone: true });
    contexts.push(tv.context, phone.context);

    const code = await tvShowsCode(tv.page);
    await expect(tv.page.getByText("/activate", { exact: false }).first()).toBeVisible();
    await tv.page.screenshot({ path: `${shots}/10-tv-code.png` });

    await gotoHydrated(phone.page, "/activate");
    await phone.page.getByLabel("Code from your TV").pressSequentially(`${code.slice(0, 3).toLowerCase()}-${code.slice(3).toLowerCase()}`);
    await phone.page.screenshot({ path: `${shots}/11-phone-code-typed.png` });
    await phone.page.getByRole("button", { name: "Continue" }).click();
    await expect(phone.page).toHaveURL(new RegExp(`/activate\\?code=${code.slice(0, 3).toLowerCase()}`, "i"));
    await phone.page.screenshot({ path: `${shots}/12-phone-confirm.png` });
    const fios = await confirmAndPick(phone.page, code, "fios", "Fios by Verizon");
    await phone.page.screenshot({ path: `${shots}/13-phone-provider-search.png` });
    await fios.click();
    await expect(phone.page.getByRole("heading", { name: /^Sign in to / })).toBeVisible();
    await phone.page.screenshot({ path: `${shots}/14-provider-sign-in.png` });
    await signInAtProvider(phone.page, "premium");
    await expect(phone.page.getByText("Signed in with Fios by Verizon.")).toBeVisible();
    const success = Date.now();
    await phone.page.screenshot({ path: `${shots}/15-phone-success.png` });

    await tvSignedIn(tv.page, "Fios by Verizon");
    expect(Date.now() - success).toBeLessThan(2_000);
    await tv.page.screenshot({ path: `${shots}/16-tv-signed-in.png` });

    const status = await play(tv.page, "REF30");
    await expect(status).toHaveText("REF30: Playing…");
    await tv.page.screenshot({ path: `${shots}/17-tv-playing.png` });

    await tv.page.getByRole("button", { name: "Sign out" }).click();
    await expect(tv.page.getByTestId("tv-code")).toHaveText(/^[A-Z0-9]{7}$/, { timeout: 15_000 });
    expect(await tv.page.getByTestId("tv-code").textContent()).not.toBe(code);
  });

  test("QR path: the phone opens activationUrlComplete, confirms and completes", async ({ browser }) => {
    test.setTimeout(60_000);
    const tv = await device(browser);
    const phone = await device(browser, { phone: true });
    contexts.push(tv.context, phone.context);

    const code = await tvShowsCode(tv.page);
    const link = await decodeQr(tv.page);
    const url = new URL(link);
    expect(url.pathname).toBe("/activate");
    expect(url.searchParams.get("code")).toBe(code);

    await gotoHydrated(phone.page, url.pathname + url.search);
    const spectrum = await confirmAndPick(phone.page, code, "spect", "Spectrum");
    await spectrum.click();
    await signInAtProvider(phone.page, "premium");
    await expect(phone.page.getByText("Signed in with Spectrum.")).toBeVisible();
    await tvSignedIn(tv.page, "Spectrum");
  });

  test("basic is denied premium-sports, with a plain reason on the TV", async ({ browser }) => {
    test.setTimeout(60_000);
    const tv = await activatedTv(browser, "basic", contexts);
    const status = await play(tv, "premium-sports");
    await expect(status).toContainText("premium-sports: Can't play — ");
    const reason = ((await status.textContent()) ?? "").split("— ")[1] ?? "";
    expect(reason).toMatch(/^[A-Z][^{}<>]{10,}$/);
    expect(reason).not.toMatch(/_/);
    await tv.screenshot({ path: `${shots}/18-tv-denied-basic.png` });
    await expect(await play(tv, "REF30")).toHaveText("REF30: Playing…");
  });

  test("kids is denied mature-movies, with a plain reason on the TV", async ({ browser }) => {
    test.setTimeout(60_000);
    const tv = await activatedTv(browser, "kids", contexts);
    const status = await play(tv, "mature-movies");
    await expect(status).toContainText("mature-movies: Can't play — ");
    const reason = ((await status.textContent()) ?? "").split("— ")[1] ?? "";
    expect(reason).toMatch(/^[A-Z][^{}<>]{10,}$/);
    expect(reason).not.toMatch(/_/);
    await tv.screenshot({ path: `${shots}/19-tv-denied-kids.png` });
  });
});
