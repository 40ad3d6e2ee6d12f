// Brings in the global `window.openSwarm` type (the ?test=1 hook).
import type {} from "../../src/state/swarm/boot.ts";
import type { Browser, BrowserContext, Page } from "@playwright/test";

/** One peer = one browser context (its own IndexedDB, so its own identity) with the app open in test mode. */
export interface TestPeer {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly peerId: string;
}

/** What a spec may set on a peer's context before the app loads: permissions granted, a script run first in
 *  every page (a test recorder, e.g. of notifications). */
export interface PeerContextOptions {
  readonly permissions?: string[];
  readonly initScript?: () => void;
}

export async function openPeer(
  browser: Browser,
  path = "/?test=1",
  options: PeerContextOptions = {},
): Promise<TestPeer> {
  const context = await browser.newContext(options.permissions ? { permissions: options.permissions } : {});
  if (options.initScript) await context.addInitScript(options.initScript);
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
  await page.goto(path);
  await waitForTestHook(page);
  const peerId = await page.evaluate(async () => {
    const hook = window.openSwarm;
    if (!hook) throw new Error("window.openSwarm is missing: is the page in ?test=1 mode?");
    const swarm = await hook.ready;
    return swarm.identity.peerId;
  });
  return { context, page, peerId };
}

/**
 * window.openSwarm arrives a moment after the page's load event: src/state/test-mode.ts imports the hook
 * lazily. Gives up quietly after `timeoutMs`, for the caller to report a missing hook in its own words.
 */
export async function waitForTestHook(page: Page, timeoutMs = 15_000): Promise<void> {
  await page
    .waitForFunction(() => window.openSwarm !== undefined, null, { timeout: timeoutMs })
    .catch(() => undefined);
}

export async function openPeers(browser: Browser, count: number): Promise<TestPeer[]> {
  return Promise.all(Array.from({ length: count }, () => openPeer(browser)));
}

export async function closePeers(peers: readonly TestPeer[]): Promise<void> {
  await Promise.all(peers.map((peer) => peer.context.close().catch(() => undefined)));
}

/** Peer ids this page sees in the directory (excluding itself). */
export function directoryPeerIds(page: Page): Promise<string[]> {
  return page.evaluate(() => window.openSwarm!.store.getState().peers.map((peer) => peer.peerId));
}

export function counters(page: Page) {
  return page.evaluate(() => window.openSwarm!.store.getState().counters);
}
