import { expect, test } from "@playwright/test";
import { gotoHydrated } from "./helpers";
import { viewerAddress } from "./tv-api";

// The second server of playwright.config.ts: its embedded emulator's codes live 10 s
// (TVE_EMULATOR_SESSION_TTL=10). Against servers started elsewhere, TVE_E2E_SHORT_TTL_URL names
// one whose codes expire as quickly.
test.use({
  baseURL: process.env.TVE_E2E_SHORT_TTL_URL ?? "http://127.0.0.1:3101",
  extraHTTPHeaders: async ({}, use) => use({ "x-forwarded-for": viewerAddress() }),
});

test("an expired code tells the phone to get a new one, and the TV sees it expired", async ({
  page,
  request,
}) => {
  const registered = await request.post("/tv/v1/devices", {
    data: {
      deviceId: `e2e-expired-${Date.now()}`,
      deviceInfo: { model: "Roku Ultra", version: "1.0", osName: "Roku OS", osVersion: "12", connectionType: "LAN" },
    },
  });
  expect(registered.status()).toBe(201);
  const { deviceToken } = (await registered.json()) as { deviceToken: string };
  const tv = { authorization: `Bearer ${deviceToken}` };
  const started = await request.post("/tv/v1/activations", { headers: tv, data: {} });
  expect(started.status()).toBe(201);
  const { code, expiresAt } = (await started.json()) as { code: string; expiresAt: number };
  const lifetime = expiresAt - Date.now();
  expect(lifetime).toBeGreaterThan(0);
  expect(lifetime).toBeLessThanOrEqual(11_000);

  // Wait out the code's life, with a second to spare.
  await new Promise((resolve) => setTimeout(resolve, lifetime + 1_000));

  await gotoHydrated(page, "/activate");
  await page.getByLabel("Code from your TV").fill(code.toLowerCase());
  await page.getByRole("button", { name: "Continue" }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("This code has expired or was already used.");
  await expect(alert).toContainText("Get a new code on your TV.");

  const status = await request.get(`/tv/v1/activations/${code}`, { headers: tv });
  expect(status.status()).toBe(200);
  expect(await status.json()).toMatchObject({ status: "expired" });
});
