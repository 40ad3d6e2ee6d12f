import { expect, test } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { mountApi } from "../api/index.ts";
import { startServer, type RunningServer } from "../signaling/server.ts";

// GET /api/v1/docs in a real browser under the server's real Content-Security-Policy: the page's own
// script must run (no inline or third-party script is allowed) and render one section per operation of
// the OpenAPI document, with no CSP violation and no page error. The spec starts its own server with the
// solve API mounted (the suite's shared server is signaling/main.ts, without it).

let server: RunningServer;
let staticDir: string;

test.beforeAll(async () => {
  staticDir = mkdtempSync(path.join(tmpdir(), "open-swarm-docs-"));
  server = await startServer({
    port: 0,
    staticDir,
    logLevel: "silent",
    configureApp: (app, context) => mountApi(app, context, { warm: false }),
  });
});

test.afterAll(async () => {
  await server.close();
  rmSync(staticDir, { recursive: true, force: true });
});

test("the docs page renders every operation of the document under the strict CSP", async ({ page }) => {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  const response = await page.goto(`${server.url}/api/v1/docs`);
  expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

  const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
    info: { version: string };
    paths: Record<string, Record<string, unknown>>;
  };
  const operations = Object.values(doc.paths).reduce((sum, item) => sum + Object.keys(item).length, 0);
  expect(operations).toBeGreaterThanOrEqual(10);
  await expect(page.locator("section.operation")).toHaveCount(operations);
  await expect(page.locator("#title")).toHaveText(`Open-Swarm API ${doc.info.version}`);
  await expect(page.locator("#solveStream code.path")).toHaveText("/api/v1/solve-stream");
  await expect(page.locator("#solveStream summary").first()).toHaveText("Request body (application/json)");
  expect(problems).toEqual([]);
  expect(server.metrics().cspViolations).toEqual({});
});
