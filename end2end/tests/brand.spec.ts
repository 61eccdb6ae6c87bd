import AxeBuilder from "@axe-core/playwright";
import { expect, request as requests, test } from "@playwright/test";
import { collectProblems, gotoHydrated } from "./helpers";
import { startActivation, viewerAddress } from "./tv-api";

// The example brands of docs/branding.md, each on a server of its own (playwright.config.ts:
// TVE_BRAND_FILE on ports 3102 and 3103). Against servers started elsewhere, TVE_E2E_BRAND_URLS
// names them ("northwind=http://…,sunrise=http://…").
const brands = [
  {
    key: "northwind",
    name: "Northwind Sports",
    spanishName: "Northwind Deportes",
    tagline: "Every game, live, on your TV.",
    spanishTagline: "Todos los partidos, en directo, en tu TV.",
    logo: /^\/brand\/logo\.svg\?v=[0-9a-f]{12}$/,
    accent: "rgb(11, 93, 59)",
    accentText: "rgb(255, 255, 255)",
    port: 3102,
  },
  {
    key: "sunrise",
    name: "Sunrise Entertainment",
    spanishName: "Sunrise Entertainment",
    tagline: "Shows for the whole family.",
    spanishTagline: "Series para toda la familia.",
    logo: /^\/brand\/logo\.png\?v=[0-9a-f]{12}$/,
    accent: "rgb(242, 157, 18)",
    accentText: "rgb(26, 17, 0)",
    port: 3103,
  },
];

const external = Object.fromEntries(
  (process.env.TVE_E2E_BRAND_URLS ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => pair.split("=") as [string, string]),
);

for (const brand of brands) {
  test.describe(`brand ${brand.key}`, () => {
    const baseURL = external[brand.key] ?? `http://127.0.0.1:${brand.port}`;
    test.use({
      baseURL,
      extraHTTPHeaders: async ({}, use) => use({ "x-forwarded-for": viewerAddress() }),
    });

    test("every page shows its name, logo and colour; Continue is primary, Cancel is not", async ({ page }) => {
      const problems = collectProblems(page);
      const api = await requests.newContext({ baseURL });
      const tv = await startActivation(api);

      await gotoHydrated(page, "/");
      await expect(page.locator("p.tagline")).toHaveText(brand.tagline);
      await gotoHydrated(page, "/activate");
      const header = page.locator("header.site");
      await expect(header.locator(".brand-name")).toHaveText(brand.name);
      await expect(page).toHaveTitle(new RegExp(`· ${brand.name}$`));
      const logo = header.locator("img.brand-logo");
      expect(await logo.getAttribute("src")).toMatch(brand.logo);
      await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
      const band = await header.evaluate((el) => getComputedStyle(el).borderTopColor);
      expect(band).toBe(brand.accent);
      await page.screenshot({ path: `../docs/screenshots/brand-${brand.key}-code-entry.png` });

      await gotoHydrated(page, `/activate?code=${tv.code}`);
      const next = page.getByRole("button", { name: "Continue" });
      const cancel = page.getByRole("button", { name: "Cancel" });
      const style = (button: typeof next) =>
        button.evaluate((el) => {
          const s = getComputedStyle(el);
          return { background: s.backgroundColor, color: s.color, weight: s.fontWeight };
        });
      const primary = await style(next);
      const secondary = await style(cancel);
      expect(primary.background).toBe(brand.accent);
      expect(primary.color).toBe(brand.accentText);
      expect(secondary.background).not.toBe(primary.background);
      expect(Number(primary.weight)).toBeGreaterThan(Number(secondary.weight));
      await expect(page.locator("header.site .brand-name")).toHaveText(brand.name);
      await page.screenshot({ path: `../docs/screenshots/brand-${brand.key}-confirm.png` });

      // The picker: providers' logos (from Adobe Pass's origin) load under the CSP.
      await next.click();
      await expect(page.getByRole("heading", { name: "Choose your TV provider" })).toBeVisible();
      await expect(page.locator("header.site .brand-name")).toHaveText(brand.name);
      const logos = page.locator("img.logo");
      expect(await logos.count()).toBeGreaterThan(0);
      for (const img of await logos.all()) {
        await img.scrollIntoViewIfNeeded();
        await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);
        expect(await img.getAttribute("alt")).toBe("");
        expect(await img.getAttribute("loading")).toBe("lazy");
      }
      await page.screenshot({ path: `../docs/screenshots/brand-${brand.key}-providers.png`, fullPage: true });
      expect(problems).toEqual([]);
      await api.dispose();
    });

    test("Spanish pages use the Spanish name and stay clean for axe", async ({ browser }) => {
      const context = await browser.newContext({
        locale: "es-ES",
        extraHTTPHeaders: { "accept-language": "es", "x-forwarded-for": viewerAddress() },
      });
      const page = await context.newPage();
      await gotoHydrated(page, `${baseURL}/`);
      await expect(page.locator("p.tagline")).toHaveText(brand.spanishTagline);
      await gotoHydrated(page, `${baseURL}/activate`);
      await expect(page.locator("header.site .brand-name")).toHaveText(brand.spanishName);
      const results = await new AxeBuilder({ page }).analyze();
      expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      await context.close();
    });
  });
}
