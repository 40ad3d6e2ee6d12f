import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./scripts/chromium.ts";

// One server per test run, on a port chosen at run time (workers inherit the env of the main process).
process.env["OPEN_SWARM_E2E_PORT"] ??= String(20000 + Math.floor(Math.random() * 30000));
const port = Number(process.env["OPEN_SWARM_E2E_PORT"]);

export default defineConfig({
  testDir: "e2e",
  timeout: 120_000,
  expect: { timeout: 15_000 },
  // Each spec already runs several browser contexts (peers) at once; on 2 cores one spec at a time is faster.
  workers: 1,
  fullyParallel: false,
  retries: process.env["CI"] ? 1 : 0,
  reporter: process.env["CI"] ? [["list"]] : [["list"]],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "retain-on-failure",
    launchOptions: chromiumLaunchOptions(),
  },
  webServer: {
    command: "node --import tsx signaling/main.ts",
    url: `http://localhost:${port}/api/v1/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: { PORT: String(port), STATIC_DIR: "dist-test", LOG_LEVEL: process.env["LOG_LEVEL"] ?? "warn" },
  },
});
