import { devices, type Project } from "@playwright/test";

/**
 * Debian's Chromium (Playwright cannot download a browser here), with the flags a closed network
 * and a root user need: no sandbox, no background connections.
 */
export const chromium: Project = {
  name: "chromium",
  use: {
    ...devices["Desktop Chrome"],
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
};
