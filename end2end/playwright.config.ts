import { defineConfig } from "@playwright/test";
import { chromium } from "./chromium";
import * as path from "node:path";

/**
 * The suite runs against the built binary (`TVE_BIN`) on its embedded default: the emulator in
 * process and an in-memory store, on a port of its own so it never meets a developer's server.
 * A second one on port 3101 hands out codes that expire after 10 s, for expired.spec.ts, and
 * two more (3102, 3103) wear the example brands of docs/branding.md, for brand.spec.ts.
 * Set `TVE_E2E_BASE_URL` to test a server that is already running instead, and
 * `TVE_E2E_SHORT_TTL_URL` to one whose codes expire after 10 s (expired.spec.ts).
 */
const root = path.resolve(__dirname, "..");
const port = Number(process.env.TVE_E2E_PORT ?? 3100);
const external = process.env.TVE_E2E_BASE_URL;
export const baseURL = external ?? `http://127.0.0.1:${port}`;
/** A second server whose activation codes expire after 10 s (expired.spec.ts). */
const shortTtlPort = 3101;
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, "target");
const binary = process.env.TVE_BIN ?? path.join(targetDir, "debug", "tve-activate");

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 5_000 },
  // One worker: the suite runs in CI on 2 cores, next to the server under test.
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  globalSetup: require.resolve("./global-setup"),
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
  projects: [chromium],
  webServer: external
    ? undefined
    : [
        server(port, {}),
        // Codes that live 10 s, for expired.spec.ts.
        server(shortTtlPort, { TVE_EMULATOR_SESSION_TTL: "10" }),
        // The example brands of docs/branding.md, for brand.spec.ts.
        server(3102, { TVE_BRAND_FILE: "docs/brands/northwind/brand.toml" }),
        server(3103, { TVE_BRAND_FILE: "docs/brands/sunrise/brand.toml" }),
      ],
});

/** The binary on `listenPort`, on its embedded default with an in-memory store, plus `extra` settings. */
function server(listenPort: number, extra: Record<string, string>) {
  return {
    command: `"${binary}"`,
    cwd: root,
    url: `http://127.0.0.1:${listenPort}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    env: {
      TVE_LISTEN: `127.0.0.1:${listenPort}`,
      // The operators' listener (/metrics, /admin) 90 ports up; see internalURL in tv-api.ts.
      TVE_INTERNAL_LISTEN: `127.0.0.1:${listenPort + 90}`,
      TVE_STORE_URL: "memory:",
      // The tests are a proxy on loopback: each sends its viewer's address as
      // X-Forwarded-For, so rate limits of one test never touch another.
      TVE_TRUSTED_PROXIES: "127.0.0.1",
      // The admin routes, for specs that act as an operator (see ADMIN_TOKEN in tv-api.ts).
      TVE_ADMIN_TOKEN: "e2e-admin-token-0123456789abcdef0123",
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, "target", "site"),
      RUST_LOG: process.env.RUST_LOG ?? "warn",
      ...extra,
    },
  };
}
