import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { jobsReady, volunteerState, submitJob, waitForJobEnd, waitForLinks } from "./support/jobs.ts";
import { killNodePeers, startNodePeer, startNodeVolunteer, type NodePeer } from "./support/node-peer.ts";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";

// Headless Node peers (bin/open-swarm.mjs, libwebrtc data channels) in the same swarm as browser tabs, over
// real WebRTC on loopback and the real signaling server. The tab's own volunteer is paused, so the only
// volunteer online is the one under test: every unit must go to it.

let tabs: TestPeer[] = [];
let nodes: NodePeer[] = [];
test.afterEach(async () => {
  await closePeers(tabs);
  for (const n of nodes) n.kill();
  killNodePeers();
  tabs = [];
  nodes = [];
});

test("a Node volunteer computes the units of a browser requester", async ({ browser, baseURL }) => {
  test.setTimeout(60_000);
  const [tab, node] = await Promise.all([openPeer(browser), startNodeVolunteer(baseURL!)]);
  tabs.push(tab);
  nodes.push(node);
  await jobsReady(tab.page);
  await tab.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
  await waitForLinks(tab.page, [node.peerId]);

  const jobId = await submitJob(tab.page, {
    name: "poisson2d-40 × 3 rhs",
    kind: "multi-rhs",
    matrix: { kind: "generated", name: "poisson2d-40" },
    rhs: { kind: "random", count: 3 },
    method: "cg",
    tol: 1e-8,
    maxIter: 5_000,
  });
  const end = await waitForJobEnd(tab.page, jobId, 40_000);
  expect(end.job!.status).toBe("done");
  expect(end.units).toHaveLength(3);
  for (const unit of end.units) {
    expect(unit.volunteerId).toBe(node.peerId);
    expect(unit.verification).toBe("verified");
    expect(unit.relResidual!).toBeLessThanOrEqual(1e-8);
  }
  await node.waitForLine(/units done 3/);
});

test("SIGINT on a Node volunteer mid-unit gives its lease back at once", async ({ browser, baseURL }) => {
  test.setTimeout(60_000);
  const [tab, node] = await Promise.all([openPeer(browser), startNodeVolunteer(baseURL!)]);
  tabs.push(tab);
  nodes.push(node);
  await jobsReady(tab.page);
  await tab.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
  await waitForLinks(tab.page, [node.peerId]);

  // A unit long enough to be caught mid-solve: CG on poisson2d-500 (250 000 unknowns) to 1e-12 runs for
  // tens of seconds, and the signal goes out at its first progress report.
  const jobId = await submitJob(tab.page, {
    name: "poisson2d-500, long CG",
    kind: "solve",
    matrix: { kind: "generated", name: "poisson2d-500" },
    rhs: { kind: "random", count: 1 },
    method: "cg",
    tol: 1e-12,
    maxIter: 50_000,
  });
  // Mid-unit: the Node volunteer reported progress (its line shows a residual).
  await node.waitForLine(/unit \d+% residual/, 30_000);
  const lease = await tab.page.evaluate((id) => window.openSwarm!.jobs.runtime()!.units(id)[0]!.lease, jobId);
  expect(lease?.volunteerId).toBe(node.peerId);
  const sigintAtMs = Date.now();
  node.process.kill("SIGINT");

  // The requester records the give-back ("declined", not charged) long before the lease would run out.
  await expect
    .poll(
      () =>
        tab.page.evaluate(
          (id) =>
            window
              .openSwarm!.jobs.runtime()!
              .units(id)[0]!
              .history.map((h) => ({ ...h })),
          jobId,
        ),
      { timeout: 10_000, intervals: [50] },
    )
    .toContainEqual(
      expect.objectContaining({ volunteerId: node.peerId, outcome: "declined", charged: false }),
    );
  const history = await tab.page.evaluate(
    (id) => window.openSwarm!.jobs.runtime()!.units(id)[0]!.history,
    jobId,
  );
  const givenBack = history.find((h) => h.volunteerId === node.peerId)!;
  expect(givenBack.atMs - sigintAtMs).toBeLessThan(5_000);
  expect(givenBack.atMs).toBeLessThan(lease!.deadlineMs);
  expect(await node.exited).toBe(0);
  expect(node.lines.join("\n")).toMatch(/left the swarm/);

  // Reissued at once: the tab's own volunteer, resumed, gets the next attempt (no need to wait for the end).
  await tab.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.resume());
  await expect
    .poll(
      () =>
        tab.page.evaluate((id) => window.openSwarm!.jobs.runtime()!.units(id)[0]!.lease?.volunteerId, jobId),
      {
        timeout: 10_000,
      },
    )
    .toBe(tab.peerId);
});

test("a browser volunteer computes the units of a Node requester", async ({ browser, baseURL }) => {
  test.setTimeout(60_000);
  const tab = await openPeer(browser);
  tabs.push(tab);
  await jobsReady(tab.page);
  // The tab is the only volunteer online: the Node requester does not volunteer, not even for itself.
  const store = mkdtempSync(path.join(tmpdir(), "open-swarm-store-"));
  const requester = startNodePeer([
    "submit",
    "poisson2d-40",
    "--random-rhs",
    "3",
    "--server",
    baseURL!,
    "--store",
    store,
    "--json",
  ]);
  nodes.push(requester);
  expect(await requester.exited).toBe(0);
  rmSync(store, { recursive: true, force: true });
  const report = JSON.parse(requester.lines.find((l) => l.startsWith("{"))!) as {
    status: string;
    units_done: number;
    volunteers: string[];
    worst_rel_residual: number;
  };
  expect(report.status).toBe("done");
  expect(report.units_done).toBe(3);
  expect(report.volunteers).toEqual([tab.peerId]);
  expect(report.worst_rel_residual).toBeLessThanOrEqual(1e-8);
  const served = (await volunteerState(tab.page)).requestersServed;
  expect(served).toHaveLength(1);
});
