import { expect, test } from "@playwright/test";
import { jobsReady, submitJob, waitForJobEnd } from "./support/jobs.ts";
import { killNodePeers, startNodeVolunteer, type NodePeer } from "./support/node-peer.ts";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";

// The overlay under a small link cap (issue 12): 12 peers, 7 tabs (2 requesters whose own volunteer is
// paused, 5 volunteers) and 5 Node volunteers, every one capped at CAP links. Each requester recruits up to
// 16 volunteers by directory query, far more than its cap, so the cap is reached (read from the requesters'
// mesh counters, not hoped for); no peer ever held more than CAP links (each peer's own high-water mark);
// and both jobs still complete, verified.

const CAP = 4;
const TAB_VOLUNTEERS = 5;
const NODE_VOLUNTEERS = 5;

let tabs: TestPeer[] = [];
let nodes: (NodePeer & { peerId: string })[] = [];
test.afterEach(async () => {
  await closePeers(tabs);
  for (const n of nodes) n.kill();
  killNodePeers();
  tabs = [];
  nodes = [];
});

function peakLinks(peer: TestPeer): Promise<number> {
  return peer.page.evaluate(async () => (await window.openSwarm!.ready).mesh.counters.peakLinks);
}

/** The highest `(peak N)` a Node volunteer printed: its line changes, so is printed, whenever N changes. */
function nodePeak(node: NodePeer): number {
  return Math.max(0, ...node.lines.flatMap((l) => /\(peak (\d+)\)/.exec(l)?.[1] ?? []).map(Number));
}

test("12 peers capped at 4 links each: the cap is reached, never passed, and every job completes", async ({
  browser,
  baseURL,
}) => {
  // 12 peers starting at once: ~30 s on an idle machine, over 2 min at load 25.
  test.setTimeout(300_000);
  const path = `/?test=1&maxLinks=${CAP}`;
  // Settled, not Promise.all: when one start fails, the ones that started are still closed after the test
  // (and Node peers are killed whatever happens: killNodePeers), so none is left for the next test.
  const [tabStarts, nodeStarts] = await Promise.all([
    Promise.allSettled(Array.from({ length: 2 + TAB_VOLUNTEERS }, () => openPeer(browser, path))),
    Promise.allSettled(
      Array.from({ length: NODE_VOLUNTEERS }, () =>
        startNodeVolunteer(baseURL!, ["--max-links", String(CAP), "--threads", "1"]),
      ),
    ),
  ]);
  tabs = tabStarts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  nodes = nodeStarts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = [...tabStarts, ...nodeStarts].find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  const requesters = tabs.slice(0, 2);
  await Promise.all(tabs.map((t) => jobsReady(t.page)));
  for (const r of requesters) {
    await r.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
  }
  // Recruiting queries the directory: wait until each requester's directory lists all 11 others.
  for (const r of requesters) {
    await expect
      .poll(() => r.page.evaluate(() => window.openSwarm!.store.getState().peers.length), { timeout: 90_000 })
      .toBe(11);
  }

  const jobIds = await Promise.all(
    requesters.map((r, i) =>
      submitJob(r.page, {
        name: `overlay cap ${i}`,
        kind: "multi-rhs",
        matrix: { kind: "generated", name: "poisson2d-20" },
        rhs: { kind: "random", count: 8 },
        method: "cg",
        tol: 1e-8,
        maxIter: 2_000,
      }),
    ),
  );
  const ends = await Promise.all(requesters.map((r, i) => waitForJobEnd(r.page, jobIds[i]!, 150_000)));
  const volunteerIds = new Set([...tabs.slice(2).map((t) => t.peerId), ...nodes.map((n) => n.peerId)]);
  for (const end of ends) {
    expect(end.job!.status).toBe("done");
    expect(end.units).toHaveLength(8);
    for (const unit of end.units) {
      expect(unit.verification).toBe("verified");
      expect(volunteerIds).toContain(unit.volunteerId);
    }
  }

  // The cap was hit: a requester wanted up to 16 volunteers and held exactly CAP links at some point.
  const requesterPeaks = await Promise.all(requesters.map(peakLinks));
  expect(Math.max(...requesterPeaks)).toBe(CAP);
  // ...and never passed, by any of the 12.
  const tabPeaks = await Promise.all(tabs.map(peakLinks));
  const nodePeaks = nodes.map(nodePeak);
  for (const peak of [...tabPeaks, ...nodePeaks]) expect(peak).toBeLessThanOrEqual(CAP);
});
