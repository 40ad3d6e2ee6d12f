import { expect, test, type Browser, type Page } from "@playwright/test";
import { existsSync, readFileSync } from "node:fs";
import type { RouterHostSnapshot, RouterTotals } from "../src/core/experts/router/types.ts";
import {
  classifyImages,
  expectAllAnswered as expectAll,
  expectSameAsWholeGraph as expectWholeGraph,
  expertsReady,
  routerHosts,
} from "./support/experts.ts";
import type { HostFaultSnapshot } from "../src/core/experts/host/faults.ts";
import type { ClassifySnapshot } from "../src/state/experts/jobs-test-hook.ts";
import { waitForLinks } from "./support/jobs.ts";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";
import { FASHION_TEST_IMAGES as TEST_IMAGES } from "../src/node/fashion-mnist.ts";

// The swarm mixture-of-experts across real tabs (separate browser contexts, real WebRTC through the real
// server): a requester tab runs the gate and routes every image's expert rows to volunteer tabs hosting
// those experts, then combines their outputs. On 1,000 Fashion-MNIST test images, three runs on one swarm:
//  (a) requester + 2 honest volunteers: every input answered, predictions identical to the single-process
//      whole-graph moe-int8 run in the requester tab (same wasm provider), and volunteers served rows;
//  (b) a third volunteer that dies holding a batch (xp-fault=die-mid-batch, fault injected on purpose), then
//      has its tab closed: every input still answered, 0 mismatches;
//  (c) a lying volunteer (xp-fault=perturb: every output moved by a relative 1e-3) joins: it is caught by a
//      canary or by replication, banned in the router's host table, and no wrong prediction is accepted.
// Then the attacks of issue 10 (each a purpose-built lying client, each tab closed once caught):
//  (d) a false provider claim (xp-claim=webgpu) with lies that fit the tolerance that claim used to buy
//      (xp-fault=shade): caught all the same, banned, 0 wrong predictions;
//  (e) a colluding pair (two tabs, xp-fault=collude: the same deterministic lie): neither validates the
//      other, both banned, 0 wrong predictions;
//  (f) a liar honest for its first 20 answers (xp-fault-after=20), trusted by then, then lying: caught,
//      banned, and every job's predictions still identical to the whole graph.
// The router alone would not reliably send a given volunteer anything: a tab may still be loading its experts
// when the job starts (a job waits for hosts ~18 s at most, less once every expert has one, and computes
// itself what no host serves yet; a busy machine makes loading slower), and hosts already measured win ties.
// So each job forces one of its first batches onto the volunteers it is about (the ?test=1 hook's test-only
// firstBatchTo), and each test first checks that they really got it, so a failure names the step that did
// not happen.
// What is tested here are the checks a job makes, so the requester runs with ?qualify=0: it does not send
// newcomers sample batches before a job (router qualification.ts, tested in volunteer-app.spec.ts and
// tests/unit/experts/router-qualification.test.ts), which would catch the liars (and kill the victim)
// before the job these tests are about.
// Tabs are heavy (each loads onnxruntime-web in a worker) and the machine has 2 cores: at most 4 are open.

const MANIFEST = new URL("../public/models/manifest.json", import.meta.url).pathname;
const IMAGES = 1000;
/** How long a forced job waits for its newcomer to serve an expert (loading 4 int8 experts in a fresh tab
 *  takes a few seconds, more on a loaded machine). */
const FIRST_BATCH_WAIT_MS = 25_000;

test.describe.configure({ mode: "serial" });

let requester: TestPeer;
let volunteers: TestPeer[] = [];
const peers: TestPeer[] = [];

async function openTab(browser: Browser, path: string): Promise<TestPeer> {
  const peer = await openPeer(browser, path);
  peers.push(peer);
  const status = await expertsReady(peer.page);
  expect(status, "window.openSwarm.expertJobs and the site's model manifest").toBe("ready");
  return peer;
}

/** Runs a classify job of the first `count` test images in the requester tab (resolves when it ended),
 *  one of its first batches forced onto each peer of `firstBatchTo` (test-only). */
function classify(page: Page, count: number, firstBatchTo: readonly string[]): Promise<ClassifySnapshot> {
  return classifyImages(page, count, firstBatchTo, FIRST_BATCH_WAIT_MS);
}

/** What the tab's injected host fault did (null when the tab has none, or no host yet). */
function hostFault(page: Page): Promise<HostFaultSnapshot | null> {
  return page.evaluate(() => window.openSwarm!.expertJobs!.state().host?.fault ?? null);
}

/** The id of the tab's last classify job (0 before the first). */
async function lastJobId(page: Page): Promise<number> {
  return page.evaluate(() => window.openSwarm!.expertJobs!.state().classify?.id ?? 0);
}

/** The tab's classify job started after job `afterId`, in a few words (for assertion messages). */
async function jobSummary(page: Page, afterId: number): Promise<string> {
  const job = await page.evaluate(() => window.openSwarm!.expertJobs!.state().classify);
  if (!job || job.id <= afterId) return "job not started";
  return `job ${job.phase}${job.error ? `: ${job.error.message}` : ""}`;
}

function routerTotals(page: Page): Promise<RouterTotals> {
  return page.evaluate(() => window.openSwarm!.expertJobs!.state().router!.totals);
}

/** Every input answered: one prediction per image, each a class index. */
function expectAllAnswered(job: ClassifySnapshot): void {
  expectAll(job, IMAGES);
}

/** The single-process moe-int8 graph on the same inputs, in the requester tab: 0 rows may differ. */
function expectSameAsWholeGraph(page: Page, job: ClassifySnapshot): Promise<void> {
  return expectWholeGraph(page, job, IMAGES);
}

/** The manifest's measured int8 accuracy on the 10,000 test images (a sanity bound for 1,000 of them). */
function manifestInt8Accuracy(): number {
  return (JSON.parse(readFileSync(MANIFEST, "utf8")) as { accuracy: { int8: number } }).accuracy.int8;
}

test.beforeAll(async ({ browser }) => {
  test.skip(!existsSync(TEST_IMAGES), "apt-get install dataset-fashion-mnist");
  test.skip(!existsSync(MANIFEST), "public/models is not built (npm run models:build)");
  test.setTimeout(60_000);
  [requester, ...volunteers] = await Promise.all([
    openTab(browser, "/?test=1&qualify=0#/experts"),
    openTab(browser, "/?test=1"),
    openTab(browser, "/?test=1"),
  ]);
  await waitForLinks(
    requester.page,
    volunteers.map((v) => v.peerId),
  );
});

test.afterAll(async () => {
  await closePeers(peers);
});

test("(a) 1,000 images over 2 volunteer tabs: all answered, identical to the whole graph", async () => {
  // The job's waits are bounded (hosts ≤ 18 s, forced volunteers ≤ FIRST_BATCH_WAIT_MS): room for them on a
  // busy machine, where the volunteers' first expert loads are slowest.
  test.setTimeout(120_000);
  const started = Date.now();
  const job = await classify(
    requester.page,
    IMAGES,
    volunteers.map((v) => v.peerId),
  );
  console.log(
    `(a) classify ${IMAGES}: ${Date.now() - started} ms, rows by source ${JSON.stringify(job.rowsBySource)}`,
  );
  // Step 1: each volunteer got (at least) its forced batch, and its rows were kept.
  for (const v of volunteers) {
    expect(
      job.rowsBySource[v.peerId] ?? 0,
      `rows accepted from volunteer ${v.peerId}${job.error ? ` (the job failed: ${job.error.message})` : ""}`,
    ).toBeGreaterThan(0);
  }
  expectAllAnswered(job);
  // A model that works (not a sanity-free pass): close to the accuracy the manifest measured.
  expect(job.accuracy!).toBeGreaterThan(manifestInt8Accuracy() - 0.05);
  await expectSameAsWholeGraph(requester.page, job);

  // Remote hosts really served rows: the volunteers' own counters and the requester's credit agree.
  for (const v of volunteers) {
    const served = await v.page.evaluate(() => window.openSwarm!.expertJobs!.state().host?.rowsServed ?? 0);
    expect(served).toBeGreaterThanOrEqual(job.rowsBySource[v.peerId]!);
  }
  const hosts = await routerHosts(requester.page);
  for (const v of volunteers) {
    const h = hosts.find((x) => x.peerId === v.peerId);
    expect(h, "the requester's router lists the volunteer as a host").toBeDefined();
    expect(h!.banned).toBeNull();
    expect(h!.rowsAccepted).toBeGreaterThan(0);
    expect(h!.canaryFailures).toBe(0);
  }
});

test("(b) a volunteer dies holding a batch and its tab closes: every input still answered", async ({
  browser,
}) => {
  // Bounded waits: the job's (hosts ≤ 18 s, the victim ≤ FIRST_BATCH_WAIT_MS), the held batch's 15 s
  // timeout, the requester noticing the closed tab (≤ 30 s): room for them on a busy machine.
  test.setTimeout(120_000);
  // Dies (stops answering, drops its expert link) on the first infer-request it gets: it holds that batch.
  const victim = await openTab(browser, "/?test=1&xp-fault=die-mid-batch&xp-fault-after=0");
  await waitForLinks(requester.page, [victim.peerId]);

  const before = await routerTotals(requester.page);
  const previousJob = await lastJobId(requester.page);
  const started = Date.now();
  const running = classify(requester.page, IMAGES, [victim.peerId]);
  // Step 1: the forced first batch reaches the victim, which dies holding it. Polled against the job too, so
  // a job that could not force it (the victim never served an expert) fails here at once with its reason.
  const dying = async () =>
    (await hostFault(victim.page))?.diedHoldingRows != null
      ? "died"
      : jobSummary(requester.page, previousJob);
  await expect.poll(dying, { timeout: 60_000, intervals: [50] }).toMatch(/^(died|job (done|failed))/);
  expect(await dying(), "the victim dies holding its forced first batch").toBe("died");
  const diedAtMs = Date.now() - started;
  const fault = (await hostFault(victim.page))!;
  expect(fault.requests, "infer-requests the victim received").toBe(1);
  expect(fault.diedHoldingRows, "rows of the batch the victim held when it died").toBeGreaterThan(0);
  expect(await victim.page.evaluate(() => window.openSwarm!.expertJobs!.state().host?.closed)).toBe(true);
  // Then the tab goes away for real. Closing a browser context does not close the WebRTC link at once on
  // the other side (the mesh notices by its ~16 s idle timeout): the router's 15 s timeout for a host it
  // has not measured yet is what reroutes the held batch, so (b) takes ~20 s after the victim is ready.
  await victim.context.close();
  const job = await running;
  console.log(`(b) classify ${IMAGES}: ${Date.now() - started} ms (victim died at ${diedAtMs} ms)`);

  // Step 2, the requester's side of step 1: it sent the victim work that never came back.
  const hosts = await routerHosts(requester.page);
  const dead = hosts.find((h) => h.peerId === victim.peerId);
  expect(dead, "the router knew the victim as a host").toBeDefined();
  expect(dead!.requests, "requests the router sent the victim").toBeGreaterThan(0);
  expect(dead!.failures, "the victim's failed requests (its held batch timed out)").toBeGreaterThan(0);
  expect(dead!.rowsAccepted).toBe(0);

  // Outcome: every input answered, exactly as the whole graph, none of it from the victim.
  expectAllAnswered(job);
  await expectSameAsWholeGraph(requester.page, job);
  expect(job.rowsBySource[victim.peerId] ?? 0).toBe(0);
  // Its batches went to another host (a retry) or were computed by the requester (fallback).
  const after = await routerTotals(requester.page);
  expect(after.retries - before.retries + (after.fallbackRows - before.fallbackRows)).toBeGreaterThan(0);
  for (const v of volunteers) expect(job.rowsBySource[v.peerId] ?? 0).toBeGreaterThan(0);

  // The requester's mesh notices the closed tab (its idle timeout), so (c) starts without a dead host that
  // the router could still send batches to.
  await expect
    .poll(
      async () => (await routerHosts(requester.page)).find((h) => h.peerId === victim.peerId)?.connected,
      {
        timeout: 30_000,
        message: "the requester's router sees the victim's link closed",
      },
    )
    .toBe(false);
});

test("(c) a lying volunteer is caught, banned, and no wrong prediction is accepted", async ({ browser }) => {
  test.setTimeout(90_000);
  const liar = await openTab(browser, "/?test=1&xp-fault=perturb");
  await waitForLinks(requester.page, [liar.peerId]);

  const started = Date.now();
  const job = await classify(requester.page, IMAGES, [liar.peerId]);
  console.log(
    `(c) classify ${IMAGES}: ${Date.now() - started} ms, rows by source ${JSON.stringify(job.rowsBySource)}`,
  );
  const failed = job.error ? ` (the job failed: ${job.error.message})` : "";

  // Step 1: the forced first batch reached the liar, and it served it perturbed. (Host stats reach the
  // page's state on a short timer: polled.)
  await expect
    .poll(async () => (await hostFault(liar.page))?.requests ?? 0, {
      message: `infer-requests the liar received${failed}`,
    })
    .toBeGreaterThanOrEqual(1);
  await expect
    .poll(() => liar.page.evaluate(() => window.openSwarm!.expertJobs!.state().host?.batchesServed ?? 0), {
      message: `batches the liar served${failed}`,
    })
    .toBeGreaterThanOrEqual(1);
  expect((await hostFault(liar.page))!.corruptedRows, "rows the liar perturbed").toBeGreaterThan(0);

  // Step 2: the router caught it (canary or replication) and banned it; nothing of it was kept.
  const state = await requester.page.evaluate(() => window.openSwarm!.expertJobs!.state().router!);
  const caught = state.hosts.find((h) => h.peerId === liar.peerId);
  expect(caught, "the router knew the liar as a host").toBeDefined();
  expect(caught!.requests, "requests the router sent the liar").toBeGreaterThan(0);
  expect(caught!.canaryFailures + caught!.replicaMismatches, "the liar's failed checks").toBeGreaterThan(0);
  expect(caught!.banned, "the liar's ban").not.toBeNull();
  expect(caught!.rowsAccepted).toBe(0);
  expect(state.totals.liarsCaught).toBeGreaterThanOrEqual(1);

  // Outcome: every input answered, exactly as the whole graph, none of it from the liar.
  expectAllAnswered(job);
  await expectSameAsWholeGraph(requester.page, job);
  expect(job.rowsBySource[liar.peerId] ?? 0).toBe(0);
  // The honest volunteers stay in good standing.
  for (const v of volunteers) expect(state.hosts.find((h) => h.peerId === v.peerId)?.banned).toBeNull();
});

/** The router's view of a host (after a job). */
async function routerHost(page: Page, peerId: string): Promise<RouterHostSnapshot | undefined> {
  return (await routerHosts(page)).find((h) => h.peerId === peerId);
}

/** A caught liar: the forced first batch reached it, it lied, the router banned it and kept nothing of it. */
async function expectCaught(liar: TestPeer, job: ClassifySnapshot): Promise<void> {
  const failed = job.error ? ` (the job failed: ${job.error.message})` : "";
  await expect
    .poll(async () => (await hostFault(liar.page))?.requests ?? 0, {
      message: `infer-requests the liar received${failed}`,
    })
    .toBeGreaterThanOrEqual(1);
  await expect
    .poll(async () => (await hostFault(liar.page))?.corruptedRows ?? 0, {
      message: "rows the liar lied about",
    })
    .toBeGreaterThan(0);
  const caught = await routerHost(requester.page, liar.peerId);
  expect(caught, "the router knew the liar as a host").toBeDefined();
  expect(caught!.requests, "requests the router sent the liar").toBeGreaterThan(0);
  expect(caught!.banned, "the liar's ban").not.toBeNull();
  expect(caught!.rowsAccepted).toBe(0);
  expect(job.rowsBySource[liar.peerId] ?? 0).toBe(0);
}

test("(d) a false provider claim buys no tolerance: caught, banned, 0 wrong predictions", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const liar = await openTab(browser, "/?test=1&xp-fault=shade&xp-claim=webgpu");
  await waitForLinks(requester.page, [liar.peerId]);
  const job = await classify(requester.page, IMAGES, [liar.peerId]);
  // The claim reached the requester: it lists the liar as a webgpu host (and did not believe it).
  expect((await routerHost(requester.page, liar.peerId))?.provider).toBe("webgpu");
  await expectCaught(liar, job);
  expectAllAnswered(job);
  await expectSameAsWholeGraph(requester.page, job);
  await liar.context.close();
});

test("(e) a colluding pair returning the same lie: neither validates the other, both banned", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const pair = await Promise.all([
    openTab(browser, "/?test=1&xp-fault=collude"),
    openTab(browser, "/?test=1&xp-fault=collude"),
  ]);
  await waitForLinks(
    requester.page,
    pair.map((p) => p.peerId),
  );
  const job = await classify(
    requester.page,
    IMAGES,
    pair.map((p) => p.peerId),
  );
  for (const liar of pair) await expectCaught(liar, job);
  expectAllAnswered(job);
  await expectSameAsWholeGraph(requester.page, job);
  for (const v of volunteers) expect((await routerHost(requester.page, v.peerId))?.banned).toBeNull();
  await Promise.all(pair.map((p) => p.context.close()));
});

test("(f) a liar honest for its first 20 answers, then lying: caught, banned, 0 wrong predictions", async ({
  browser,
}) => {
  test.setTimeout(150_000);
  const turncoat = await openTab(browser, "/?test=1&xp-fault=perturb&xp-fault-after=20");
  await waitForLinks(requester.page, [turncoat.peerId]);
  // Jobs until it is caught (each forced to send it a batch first); it needs > 20 requests to start lying.
  // Its rows each job kept, at the job's end: the job it is caught in recomputes them all (0).
  const rowsKept: number[] = [];
  for (let jobs = 1; ; jobs++) {
    const job = await classify(requester.page, IMAGES, [turncoat.peerId]);
    expectAllAnswered(job);
    await expectSameAsWholeGraph(requester.page, job);
    rowsKept.push(job.rowsBySource[turncoat.peerId] ?? 0);
    const host = await routerHost(requester.page, turncoat.peerId);
    if (host?.banned != null) break;
    expect(
      jobs,
      `jobs before the turncoat was caught (${JSON.stringify(await hostFault(turncoat.page))})`,
    ).toBeLessThan(6);
  }
  const fault = (await hostFault(turncoat.page))!;
  expect(fault.requests, "infer-requests the turncoat received (its honest 20 first)").toBeGreaterThan(20);
  expect(fault.corruptedRows).toBeGreaterThan(0);
  const caught = (await routerHost(requester.page, turncoat.peerId))!;
  // It had earned trust (10 consecutive valid answers) before it lied, and lost it at once.
  expect(caught.totalValid, "answers of the turncoat found valid before it lied").toBeGreaterThanOrEqual(10);
  expect(caught.trusted).toBe(false);
  // What it gave the finished jobs the router keeps is recomputed too (asynchronously, after the ban). Rows
  // it gave older jobs (when it was caught late: the number of jobs depends on how the router spread the
  // batches) stay as delivered, and are counted as past revision: exactly those of the jobs older than the
  // last `revisableJobs` before the one it was caught in.
  const caughtIn = rowsKept.indexOf(0);
  expect(caughtIn, `the turncoat's rows by job ${JSON.stringify(rowsKept)}`).toBeGreaterThanOrEqual(0);
  const revisable = await requester.page.evaluate(
    () => window.openSwarm!.expertJobs!.state().router!.revisableJobs,
  );
  const pastRevision = rowsKept.slice(0, Math.max(0, caughtIn - revisable)).reduce((a, b) => a + b, 0);
  await expect
    .poll(async () => (await routerHost(requester.page, turncoat.peerId))?.rowsAccepted, {
      message: `rows of the turncoat still accepted (by job ${JSON.stringify(rowsKept)}, ${revisable} kept)`,
    })
    .toBe(pastRevision);
  expect((await routerHost(requester.page, turncoat.peerId))?.rowsPastRevision).toBe(pastRevision);
  await turncoat.context.close();
});
