import { existsSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { FASHION_TEST_IMAGES as TEST_IMAGES } from "../src/node/fashion-mnist.ts";
import {
  classifyImages,
  expectAllAnswered,
  expectSameAsWholeGraph,
  expertsReady,
  routerHosts,
} from "./support/experts.ts";
import { killNodePeers, startNodeVolunteer, type NodePeer } from "./support/node-peer.ts";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";

// `open-swarm volunteer --experts` (a Node peer hosting experts on onnxruntime-node) serving a browser
// requester's classify job, over real WebRTC and the real server. The requester tab opens on the Experts
// view and finds the Node host through the directory (no test code links them); its own expert host is
// paused (the Contribute pause pauses hosting too), so the Node volunteer is its only host, and one of the
// job's first batches is forced onto it (test-only firstBatchTo), so it gets work whatever the router picks.
//  (a) an honest Node host: its rows are accepted, predictions identical to the single-process moe-int8
//      graph in the requester tab; Ctrl-C (SIGINT) tells the requester it paused and exits 0;
//  (b) a lying Node host (--test-xp-fault perturb, fault injected on purpose): caught by the router's check
//      of new hosts on sample images (qualification), banned, nothing of it kept in the next job.

const IMAGES = 1000;
/** A fresh Node host loads its experts (fetched, digest-checked, warmed) before it serves one. */
const FIRST_BATCH_WAIT_MS = 25_000;

test.describe.configure({ mode: "serial" });

let requester: TestPeer;
let nodes: NodePeer[] = [];

test.beforeAll(async ({ browser }) => {
  test.skip(!existsSync(TEST_IMAGES), "apt-get install dataset-fashion-mnist");
  requester = await openPeer(browser, "/?test=1#/experts");
  expect(await expertsReady(requester.page), "the site's model manifest").toBe("ready");
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
});

test.afterEach(() => {
  for (const node of nodes) node.kill();
  killNodePeers();
  nodes = [];
});

test.afterAll(async () => {
  if (requester) await closePeers([requester]);
});

/** Starts a Node volunteer with --experts and waits until the requester's router lists it as a host. */
async function startNodeHost(
  extra: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<NodePeer & { peerId: string }> {
  const node = await startNodeVolunteer(test.info().project.use.baseURL!, ["--experts", ...extra], env);
  nodes.push(node);
  await requester.page.waitForFunction(
    (id) => window.openSwarm!.expertJobs!.state().router?.hosts.some((h) => h.peerId === id) === true,
    node.peerId,
    { timeout: 30_000 },
  );
  return node;
}

/** The rows the Node host says it served (its live line), once it served some. */
async function rowsServed(node: NodePeer): Promise<number> {
  const line = await node.waitForLine(/rows served [1-9]/, 15_000);
  return Number(/rows served (\d+)/.exec(line)![1]);
}

test("(a) a Node volunteer with --experts serves a browser requester's classify job", async () => {
  test.setTimeout(60_000);
  const node = await startNodeHost();
  const job = await classifyImages(requester.page, IMAGES, [node.peerId], FIRST_BATCH_WAIT_MS);
  const failed = job.error ? ` (the job failed: ${job.error.message})` : "";
  console.log(
    `(a) classify ${IMAGES}: ${job.elapsedMs?.toFixed(0)} ms, rows by source ${JSON.stringify(job.rowsBySource)}`,
  );

  // Step 1: the Node host got work and its rows were kept.
  expect(job.rowsBySource[node.peerId] ?? 0, `rows accepted from the Node host${failed}`).toBeGreaterThan(0);
  expectAllAnswered(job, IMAGES);
  await expectSameAsWholeGraph(requester.page, job, IMAGES);
  const host = (await routerHosts(requester.page)).find((h) => h.peerId === node.peerId)!;
  expect(host.provider).toBe("cpu");
  expect(host.banned).toBeNull();
  expect(host.canaryFailures).toBe(0);
  expect(host.rowsAccepted).toBeGreaterThan(0);
  expect(await rowsServed(node)).toBeGreaterThan(0);
  // The requester's batch-verdicts reached it: its line counts batches the requester accepted.
  await node.waitForLine(/ [1-9]\d* of the last \d+ accepted/, 15_000);

  // Ctrl-C: the requester hears it paused (or its link closed) at once; the process exits cleanly.
  node.process.kill("SIGINT");
  await expect
    .poll(
      async () => {
        const h = (await routerHosts(requester.page)).find((x) => x.peerId === node.peerId);
        return h !== undefined && (h.paused || !h.connected);
      },
      { timeout: 10_000, intervals: [100] },
    )
    .toBe(true);
  expect(await node.exited).toBe(0);
  // Its own count (every row it ran, canaries included) covers what the requester credited it with.
  const left = node.lines.find((l) => l.startsWith("left the swarm"))!;
  const served = Number(/, (\d+) expert rows/.exec(left)![1]);
  expect(served).toBeGreaterThanOrEqual(job.rowsBySource[node.peerId]!);
});

test("(b) a lying Node host is caught, banned, and no wrong prediction is accepted", async () => {
  test.setTimeout(60_000);
  const liar = await startNodeHost(["--test-xp-fault", "perturb"], { OPEN_SWARM_TEST_MODE: "1" });
  // Forced by the router itself: while no job runs it sends every host it does not trust yet sample
  // images, each answer checked in full (router qualification.ts). The liar answers them perturbed.
  await expect
    .poll(
      async () => (await routerHosts(requester.page)).find((h) => h.peerId === liar.peerId)?.banned ?? null,
      { timeout: 30_000, message: "the liar's ban" },
    )
    .not.toBeNull();
  expect(await rowsServed(liar), "rows the liar answered").toBeGreaterThan(0);
  const caught = (await routerHosts(requester.page)).find((h) => h.peerId === liar.peerId)!;
  expect(caught.requests).toBeGreaterThan(0);
  expect(caught.rowsAccepted).toBe(0);

  // A job after it: nothing from the liar, every prediction as the whole graph's.
  const job = await classifyImages(requester.page, IMAGES, [], FIRST_BATCH_WAIT_MS);
  console.log(`(b) rows by source ${JSON.stringify(job.rowsBySource)}`);
  expect(job.rowsBySource[liar.peerId] ?? 0).toBe(0);
  expectAllAnswered(job, IMAGES);
  await expectSameAsWholeGraph(requester.page, job, IMAGES);
});
