import { defineConfig } from "@playwright/test";
import { chromium } from "./chromium";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The cluster suite: HAProxy in front of two nodes that share PostgreSQL, Redis and a standalone
 * emulator with Adobe's throttling on, all started by `scripts/cluster.sh` (which writes the
 * URLs and the nodes' PIDs to `CLUSTER_INFO`). The balancer listens on `TVE_CLUSTER_PORT`
 * (default 3200).
 */
const root = path.resolve(__dirname, "..");
const port = Number(process.env.TVE_CLUSTER_PORT ?? 3200);
export const clusterInfo = process.env.CLUSTER_INFO ?? path.join(os.tmpdir(), `tve-cluster-${port}.json`);
process.env.CLUSTER_INFO = clusterInfo;

export default defineConfig({
  testDir: "./cluster",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
  },
  projects: [chromium],
  webServer: {
    command: `"${path.join(root, "scripts", "cluster.sh")}"`,
    cwd: root,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    // cluster.sh stops everything it started on SIGTERM.
    gracefulShutdown: { signal: "SIGTERM", timeout: 30_000 },
    env: { CLUSTER_PORT: String(port), CLUSTER_INFO: clusterInfo },
  },
});
