import { expect, type APIRequestContext } from "@playwright/test";

/** A TV as the Streaming App API sees it: registers, then starts an activation. */
export async function startActivation(request: APIRequestContext, mvpd?: string) {
  const deviceId = `e2e-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  const registered = await request.post("/tv/v1/devices", {
    data: {
      deviceId,
      deviceInfo: { model: "Roku Ultra", version: "1.0", osName: "Roku OS", osVersion: "12", connectionType: "LAN" },
    },
  });
  expect(registered.status()).toBe(201);
  const { deviceToken } = await registered.json();
  const started = await request.post("/tv/v1/activations", {
    headers: { authorization: `Bearer ${deviceToken}` },
    data: mvpd ? { mvpd } : {},
  });
  expect(started.status()).toBe(201);
  return { deviceToken, ...(await started.json()) } as {
    deviceToken: string;
    code: string;
    activationUrl: string;
    activationUrlComplete: string;
  };
}

/** A fresh private address per test, sent as `X-Forwarded-For` (the suite starts the server with `TVE_TRUSTED_PROXIES=127.0.0.1`), so rate limits of one test never touch another. */
export function viewerAddress() {
  const n = () => Math.floor(Math.random() * 250) + 1;
  return `10.${n()}.${n()}.${n()}`;
}

/** The operators' listener (/metrics, /admin) of the server under test: 90 ports above it. */
export const internalURL =
  process.env.TVE_E2E_INTERNAL_URL ?? `http://127.0.0.1:${Number(process.env.TVE_E2E_PORT ?? 3100) + 90}`;

/** The admin token the servers under test take (playwright.config.ts). */
export const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef0123";
