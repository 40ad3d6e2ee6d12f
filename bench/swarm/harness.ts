import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from "@playwright/test";
// Brings in the global `window.openSwarm` type (the ?test=1 hook).
import type {} from "../../src/state/test-hook.ts";
import { startServer } from "../../signaling/server.ts";
import { chromiumLaunchOptions } from "../../scripts/chromium.ts";

/** One tab = one browser context (its own IndexedDB, so its own identity), driven through ?test=1. */
export interface Tab {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly peerId: string;
  readonly cdp: CDPSession;
  readonly label: string;
  closed: boolean;
}

export interface Harness {
  readonly url: string;
  openTab(label: string, query?: string): Promise<Tab>;
  closeTab(tab: Tab): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(staticDir = "dist-test"): Promise<Harness> {
  const server = await startServer({
    port: 0,
    staticDir,
    logLevel: "silent",
    // Up to eight contexts from one address join at once: lift the per-address limits for the benchmark.
    maxConnectionsPerIp: 256,
    upgradeBurst: 256,
    upgradeRatePerS: 256,
  });
  const browser: Browser = await chromium.launch(
    // Tabs in the background must not be throttled: each one is a volunteer.
    chromiumLaunchOptions([
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--disable-backgrounding-occluded-windows",
    ]),
  );

  return {
    url: server.url,
    async openTab(label, query = "") {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error(`[${label} page error] ${error.message}`));
      await page.goto(`${server.url}/?test=1${query}`);
      // The hook arrives a moment after the load event (src/state/test-mode.ts imports it lazily).
      await page
        .waitForFunction(() => window.openSwarm !== undefined, null, { timeout: 15_000 })
        .catch(() => undefined);
      const peerId = await page.evaluate(async () => {
        const hook = window.openSwarm;
        if (!hook) throw new Error("window.openSwarm is missing: is the page in ?test=1 mode?");
        const swarm = await hook.ready;
        await hook.jobsReady;
        return swarm.identity.peerId;
      });
      const cdp = await context.newCDPSession(page);
      await cdp.send("Performance.enable");
      return { context, page, peerId, cdp, label, closed: false };
    },
    async closeTab(tab) {
      tab.closed = true;
      await tab.context.close().catch(() => undefined);
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Waits until `from` has an authenticated data channel to each of `to`. */
export async function link(from: Tab, to: readonly Tab[], timeoutMs = 30_000): Promise<void> {
  await from.page.evaluate(
    async ({ ids, timeoutMs }) => {
      const swarm = await window.openSwarm!.ready;
      await Promise.all(ids.map((id) => swarm.mesh.waitForPeer(id, timeoutMs)));
    },
    { ids: to.map((t) => t.peerId), timeoutMs },
  );
}

/** Milliseconds of tasks run on the tab's main thread so far (Chrome's TaskDuration; workers excluded). */
export async function mainThreadTaskMs(tab: Tab): Promise<number> {
  return (await mainThreadMetrics(tab)).taskMs;
}

/**
 * The tab's main thread so far: taskMs is the wall time of its tasks (TaskDuration: on a loaded machine
 * it also counts the time the thread waited for a core), cpuMs the CPU time the thread used (ThreadTime:
 * what the requester costs, whatever else runs).
 */
export async function mainThreadMetrics(tab: Tab): Promise<{ taskMs: number; cpuMs: number }> {
  const { metrics } = await tab.cdp.send("Performance.getMetrics");
  const task = metrics.find((m) => m.name === "TaskDuration");
  const cpu = metrics.find((m) => m.name === "ThreadTime");
  if (task === undefined || cpu === undefined)
    throw new Error("Chrome did not report TaskDuration/ThreadTime");
  return { taskMs: task.value * 1000, cpuMs: cpu.value * 1000 };
}

export function pauseVolunteer(tab: Tab): Promise<void> {
  return tab.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
