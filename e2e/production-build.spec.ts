import { expect, test, type Page } from "@playwright/test";
import { existsSync } from "node:fs";
import { startServer, type RunningServer } from "../signaling/server.ts";

// Issue 10, item 11: a link to `/?test=1&fault=perturb` must not make a visitor's own tab lie. The app that
// `npm start` serves (`npm run build`, dist/) has no test hooks and no fault injection compiled in; only the
// test build (`npm run build:test`, dist-test/, which every other spec is served) has them. This spec serves
// both builds side by side and opens the same hostile link in each: the test build is the control that shows
// the checks below can fail.

const HOSTILE_QUERY = "/?test=1&fault=perturb&xp-fault=perturb";
/** Strings only the test hooks and the fault injection hold (as in tests/unit/build/test-hooks-bundle.test.ts). */
const TEST_ONLY_STRINGS = [
  "FaultInjection",
  "HostFault",
  "die-mid-batch",
  "it needs the page's ?test=1 mode",
];

let production: RunningServer;

test.beforeAll(async () => {
  if (!existsSync("dist/index.html")) throw new Error("the production build is missing: run `npm run build`");
  production = await startServer({ port: 0, staticDir: "dist", logLevel: "silent" });
});

test.afterAll(async () => {
  await production.close();
});

interface LoadedApp {
  /** Every JavaScript file the page fetched, by URL. */
  readonly scripts: Map<string, string>;
  readonly hookInstalled: boolean;
}

/** Opens `url`, waits until the tab has joined the swarm, and reports what it loaded. */
async function openHostileLink(page: Page, url: string): Promise<LoadedApp> {
  const scripts = new Map<string, string>();
  const pending: Promise<void>[] = [];
  page.on("response", (response) => {
    if (!/\.m?js(\?|$)/.test(response.url())) return;
    pending.push(
      response.text().then(
        (body) => void scripts.set(response.url(), body),
        () => undefined,
      ),
    );
  });
  await page.goto(url);
  await expect(page.getByTestId("self-status")).toHaveText("connected", { timeout: 30_000 });
  await expect(page.getByTestId("self-peer-id")).not.toHaveText("…");
  // In the test build the hook arrives just after load; wait until the network is quiet so that a hook
  // still on its way cannot be missed in the production build.
  await page.waitForLoadState("networkidle");
  await Promise.all(pending);
  const hookInstalled = await page.evaluate(() => window.openSwarm !== undefined);
  return { scripts, hookInstalled };
}

function scriptsHolding(app: LoadedApp, text: string): string[] {
  return [...app.scripts].filter(([, body]) => body.includes(text)).map(([url]) => url);
}

test("the test build (control): the hostile link installs the hook and loads the fault injection", async ({
  page,
}) => {
  const app = await openHostileLink(page, HOSTILE_QUERY);
  expect(app.hookInstalled).toBe(true);
  expect(scriptsHolding(app, "FaultInjection").length).toBeGreaterThan(0);
});

test("the production build: the hostile link loads no hook and no fault, and the tab still works", async ({
  page,
}) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const app = await openHostileLink(page, `${production.url}${HOSTILE_QUERY}`);
  expect(app.scripts.size).toBeGreaterThan(0);
  expect(app.hookInstalled).toBe(false);
  for (const text of TEST_ONLY_STRINGS) expect(scriptsHolding(app, text), text).toEqual([]);
  expect(errors).toEqual([]);
});
