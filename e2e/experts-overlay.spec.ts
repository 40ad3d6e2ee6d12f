import { expect, test } from "@playwright/test";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";

// The Experts view finds expert hosts through the directory (state/experts/overlay.ts): as it opens, and
// when one comes online later, through a directory watch, not at the recruiter's 15 s refresh. No test code
// links the tabs.

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

const REFRESH_MS = 15_000;

test("the Experts view finds a volunteer that comes online after it opened, without waiting for the refresh", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const requester = await openPeer(browser, "/?test=1#/experts");
  peers.push(requester);
  // The view prefetched: its router exists (the first directory query went out before it did). From now
  // on, record when the requester queries the directory and what each query found (observation only).
  await requester.page.waitForFunction(() => window.openSwarm?.expertJobs?.state().router != null, null, {
    timeout: 30_000,
  });
  await requester.page.evaluate(async () => {
    const directory = (await window.openSwarm!.ready).directory;
    const log: { atMs: number; found: string[] }[] = [];
    (window as unknown as { queryLog: typeof log }).queryLog = log;
    const query = directory.query.bind(directory);
    directory.query = async (filter, k, timeoutMs) => {
      const atMs = Date.now();
      const result = await query(filter, k, timeoutMs);
      log.push({ atMs, found: result.peers.map((p) => p.peerId) });
      return result;
    };
  });

  // Wait for the next periodic query (the volunteer is not online yet): the one after it is due
  // REFRESH_MS later, so a query that finds the volunteer sooner than that came from the watch.
  await requester.page.waitForFunction(
    () => (window as unknown as { queryLog: unknown[] }).queryLog.length > 0,
    null,
    { timeout: 30_000 },
  );
  const volunteer = await openPeer(browser);
  peers.push(volunteer);
  await requester.page.waitForFunction(
    (id) => window.openSwarm!.expertJobs!.state().router?.candidates.includes(id) === true,
    volunteer.peerId,
    { timeout: 45_000 },
  );

  // The query that found it came from the watch: sooner after the previous query than the refresh allows
  // (a periodic query is at least REFRESH_MS after the one before, whatever the machine's load).
  const log = await requester.page.evaluate(
    () => (window as unknown as { queryLog: { atMs: number; found: string[] }[] }).queryLog,
  );
  const finder = log.findIndex((q) => q.found.includes(volunteer.peerId));
  expect(finder, JSON.stringify(log)).toBeGreaterThanOrEqual(1);
  expect(log[finder]!.atMs - log[finder - 1]!.atMs).toBeLessThan(REFRESH_MS);
  // The router offered it experts: it hosts some, and reports them loaded.
  await requester.page.waitForFunction(
    (id) =>
      window
        .openSwarm!.expertJobs!.state()
        .router?.hosts.some(
          (h) => h.peerId === id && h.placed.length > 0 && h.placed.every((e) => h.ready.includes(e)),
        ) === true,
    volunteer.peerId,
    { timeout: 45_000 },
  );
});
