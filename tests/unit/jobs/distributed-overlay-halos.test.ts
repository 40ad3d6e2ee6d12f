import { afterEach, describe, expect, it } from "vitest";
import { runDistributedInProcess, type HaloRouting } from "../../../src/core/distributed/index.ts";
import type { JobLink } from "../../../src/core/jobs/job-link.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { encodeDistPayload, type DistEnvelope } from "../../../src/core/protocol/distributed-frame.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { fromCoo } from "../../../src/core/sparse/coo.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import {
  CAPS,
  cleanup,
  freshDbName,
  openRepo,
  startPeers,
  startRequester,
  until,
  type TestPeer,
} from "./runtime-helpers.ts";

afterEach(cleanup);

// Issue 12.4: peer-to-peer halos on the overlay. Volunteers are linked only to their requester (the mesh
// dials on demand); at each epoch the block holders ask for links to their neighbours, send halos over
// them, and a pair that cannot link sends through the requester, which relays.

const TOL = 1e-8;
const BLOCKS = 3;

/**
 * The 5-point Laplacian on a k×k grid that wraps around in y (a cylinder): in 3 contiguous row blocks
 * every block borders both others (block 0 meets block 2 across the wrap), so every pair of holders needs
 * a link, whichever block the scheduler gives to whom.
 */
function cylinder(k: number): CsrMatrix {
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const add = (r: number, c: number, v: number) => (rows.push(r), cols.push(c), vals.push(v));
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      const r = y * k + x;
      add(r, r, 4);
      if (x > 0) add(r, r - 1, -1);
      if (x < k - 1) add(r, r + 1, -1);
      add(r, ((y + k - 1) % k) * k + x, -1);
      add(r, ((y + 1) % k) * k + x, -1);
    }
  }
  return fromCoo(k * k, k * k, rows, cols, vals);
}

function distributed(a: CsrMatrix): SubmitInput {
  return {
    name: "cylinder",
    kind: "distributed-solve",
    a,
    rhs: [multiply(a, ones(a.cols))],
    method: "cg",
    tol: TOL,
    maxIter: 5_000,
    blocks: BLOCKS,
  };
}

/** Bytes a dist frame puts on the wire: its JSON header payload and its binary attachment. */
function wireBytes(env: DistEnvelope): number {
  const { payload, attachment } = encodeDistPayload(env.message);
  return JSON.stringify(payload).length + attachment.byteLength;
}

/** Block data, checkpoints (x and r, audited by the requester), or the iterations' own messages. */
type Kind = "init" | "checkpoint" | "iteration";
function kindOf(env: DistEnvelope): Kind {
  if (env.kind === "init") return "init";
  const m = env.message as { type?: string; checkpoint?: unknown };
  return m.type === "halo" && m.checkpoint !== undefined ? "checkpoint" : "iteration";
}

/** The overlay: on-demand dialing; `maxLinks` of volunteer `i` (1-based; default the mesh's). */
async function overlay(maxLinks: (i: number) => number | undefined = () => undefined) {
  return startPeers(BLOCKS + 1, {
    links: "star",
    mesh: (i) => {
      const cap = i === 0 ? undefined : maxLinks(i);
      return cap === undefined ? { dialPolicy: "on-demand" } : { dialPolicy: "on-demand", maxLinks: cap };
    },
  });
}

const linkedVolunteers = (v: TestPeer, vols: readonly TestPeer[]) =>
  vols.filter((w) => w !== v && v.link.isLinked(w.mesh.peerId)).length;

/**
 * One solve on 3 volunteers of the overlay; the requester's dist traffic in and out, counted at its link.
 * `linked` is the iteration traffic once every pair of volunteers is linked (all of it, for coordinator
 * routing), over the iterations whose scalars went out since: the steady state, whenever the links opened.
 */
async function solveCounting(
  routing: HaloRouting,
  peers: TestPeer[],
  a: CsrMatrix,
  onFrame: (env: DistEnvelope) => void = () => undefined,
) {
  const [req, ...vols] = peers;
  const traffic: Record<Kind, { bytes: number; frames: number }> = {
    init: { bytes: 0, frames: 0 },
    checkpoint: { bytes: 0, frames: 0 },
    iteration: { bytes: 0, frames: 0 },
  };
  const linked = { bytes: 0, iterations: new Set<number>() };
  const allLinked = () =>
    routing === "coordinator" || vols.every((v) => linkedVolunteers(v, vols) === vols.length - 1);
  const count = (env: DistEnvelope): void => {
    const kind = kindOf(env);
    const t = traffic[kind];
    const bytes = wireBytes(env);
    t.bytes += bytes;
    t.frames++;
    if (kind !== "iteration" || !allLinked()) return;
    linked.bytes += bytes;
    const m = env.message as { type?: string; iteration?: number };
    if (m.type === "scalars" && m.iteration !== undefined) linked.iterations.add(m.iteration);
  };
  const counted: JobLink = {
    ...req!.link,
    sendDist: (to, env) => {
      count(env);
      return req!.link.sendDist(to, env);
    },
    onDist: (listener) =>
      req!.link.onDist((from, env) => {
        count(env);
        onFrame(env);
        listener(from, env);
      }),
  };
  const rt = await startRequester(req!, openRepo(freshDbName()), {
    link: counted,
    volunteers: () => vols.map((p) => ({ peerId: p.mesh.peerId, capabilities: CAPS })),
    ...(routing === "coordinator" ? { distributedHaloRouting: routing } : {}), // "peer": the default
  });
  const input = distributed(a);
  const id = await rt.submit(input);
  await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
  expect(rt.scheduler.job(id)!.status).toBe("done");
  const [x] = await rt.solutions(id);
  expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  const holderOf = (v: TestPeer) =>
    rt.units(id).find((u) => u.result?.volunteerId === v.mesh.peerId && u.task.kind === "row-block");
  // Every block on its own volunteer (the scheduler spreads a solve's blocks while it can).
  expect(vols.every((v) => holderOf(v) !== undefined)).toBe(true);
  const snapshots = vols.map((v) => v.volunteer!.distributed.snapshot());
  const linkedPerIteration = linked.bytes / Math.max(1, linked.iterations.size);
  return { stats: rt.distributedStats(id)!, traffic, snapshots, linkedPerIteration };
}

describe("peer-to-peer halos on the overlay (links on demand)", () => {
  it("holders link to their neighbours when the solve asks; the requester carries a fraction of the bytes", async () => {
    const a = cylinder(48);
    const peers = await overlay();
    const vols = peers.slice(1);
    // Forced start: each volunteer is linked to the requester only.
    for (const v of vols) expect(linkedVolunteers(v, vols)).toBe(0);
    const peer = await solveCounting("peer", peers, a);
    // The holders asked for their neighbours: every pair of them is linked now.
    for (const v of vols) expect(linkedVolunteers(v, vols)).toBe(2);
    cleanup();
    const routed = await solveCounting("coordinator", await overlay(), a);
    expect(peer.stats.haloRouting).toBe("peer");
    expect(peer.stats.peerFallbacks).toBe(0);
    expect(routed.stats.haloRouting).toBe("coordinator");
    expect(routed.stats.relayedHaloParts).toBe(0);
    // The same arithmetic whichever way each part travels.
    expect(peer.stats.iterations).toBe(routed.stats.iterations);
    for (const s of peer.snapshots) {
      expect(s.rejected).toEqual({});
      expect(s.halos.direct).toBeGreaterThan(0);
    }
    const total = (t: typeof peer.traffic) => t.init.bytes + t.checkpoint.bytes + t.iteration.bytes;
    const n = peer.stats.iterations;
    const line = (t: typeof peer.traffic) =>
      `${total(t)} B in all; iterations ${Math.round(t.iteration.bytes / n)} B and ` +
      `${(t.iteration.frames / n).toFixed(1)} frames per iteration; block data ${t.init.bytes} B; ` +
      `checkpoints ${t.checkpoint.bytes} B`;
    const direct = peer.snapshots.reduce((s, x) => s + x.halos.direct, 0);
    console.log(
      `requester dist traffic, cylinder(48) in ${BLOCKS} blocks on the overlay, ${n} iterations:\n` +
        `  peer:        ${line(peer.traffic)}; halo parts ${direct} direct, ` +
        `${peer.stats.relayedHaloParts} relayed (${peer.stats.relayedHaloPairs} pairs) while links opened; ` +
        `${Math.round(peer.linkedPerIteration)} B per iteration once linked\n` +
        `  coordinator: ${line(routed.traffic)}`,
    );
    // Routed, every halo value crosses the requester twice; once the holders are linked, none does: what
    // is left per iteration is the reductions. (Before, a part relayed costs what a routed one does.)
    expect(peer.linkedPerIteration).toBeGreaterThan(0);
    expect(peer.linkedPerIteration).toBeLessThan(0.4 * routed.linkedPerIteration);
    expect(total(peer.traffic)).toBeLessThan(total(routed.traffic));
  }, 60_000);

  it("a holder whose link cap is full: its pairs go through the requester, the others peer to peer; x is right", async () => {
    const a = cylinder(48);
    // FAULT INJECTION (test-only): volunteer 3 may hold one link, its requester's, so both its
    // neighbours' dials to it are refused and it cannot dial them.
    const peers = await overlay((i) => (i === 3 ? 1 : undefined));
    const [, ...vols] = peers;
    const capped = vols[2]!;
    const { stats, snapshots } = await solveCounting("peer", peers, a);
    expect(stats.haloRouting).toBe("peer");
    expect(stats.peerFallbacks).toBe(0);
    // Same iterations as the same solve in one process (the arithmetic does not depend on the route).
    const reference = await runDistributedInProcess(a, multiply(a, ones(a.cols)), BLOCKS, {
      method: "pcg",
      tol: TOL,
      maxIter: 5_000,
      haloRouting: "coordinator",
    });
    expect(stats.iterations).toBe(reference.result.iterations);
    // The capped holder never linked to a neighbour: every part to or from it was relayed.
    expect(linkedVolunteers(capped, vols)).toBe(0);
    const [s1, s2, s3] = snapshots as [(typeof snapshots)[0], (typeof snapshots)[0], (typeof snapshots)[0]];
    expect(s3.halos.direct).toBe(0);
    expect(s3.halos.relayed).toBeGreaterThan(0);
    // Both pairs with it, both ways, needed the requester; the other pair linked and sent directly.
    expect(stats.relayedHaloPairs).toBeGreaterThanOrEqual(4);
    expect(stats.relayedHaloParts).toBeGreaterThanOrEqual(s3.halos.relayed);
    expect(linkedVolunteers(vols[0]!, vols)).toBe(1);
    expect(s1.halos.direct).toBeGreaterThan(0);
    expect(s2.halos.direct).toBeGreaterThan(0);
    for (const s of snapshots) expect(s.rejected).toEqual({});
  }, 60_000);

  it("a link between two holders closes mid-solve: what it may have lost is relayed, no stall, x is right", async () => {
    const a = cylinder(48);
    const peers = await overlay();
    const [, v1, v2] = peers as [TestPeer, TestPeer, TestPeer, TestPeer];
    let relayedAtCut: number | null = null;
    const v1Iteration = () => v1.volunteer!.distributed.snapshot().blocks[0]?.iteration ?? 0;
    // FAULT INJECTION (test-only): at the first reduction the requester gets once v1's block is at
    // iteration 10, v1 drops its link to v2 (they hold neighbouring blocks: every pair borders here).
    const { stats, snapshots } = await solveCounting("peer", peers, a, (env) => {
      const m = env.message as { type?: string };
      if (relayedAtCut !== null || m.type !== "dots" || v1Iteration() < 10) return;
      relayedAtCut = v1.volunteer!.distributed.snapshot().halos.relayed;
      v1.mesh.disconnect(v2.mesh.peerId, "test: link cut");
    });
    expect(relayedAtCut).not.toBeNull();
    const reference = await runDistributedInProcess(a, multiply(a, ones(a.cols)), BLOCKS, {
      method: "pcg",
      tol: TOL,
      maxIter: 5_000,
    });
    expect(stats.iterations).toBe(reference.result.iterations);
    expect(stats.peerFallbacks).toBe(0);
    // v1 handed the parts its closed link may have lost to the requester.
    expect(snapshots[0]!.halos.relayed).toBeGreaterThan(relayedAtCut!);
    // The copies v2 already had were dropped as such, and nothing else.
    for (const s of snapshots)
      for (const reason of Object.keys(s.rejected)) expect(reason).toMatch(/^relayed_(stale|duplicate)$/);
  }, 60_000);
});
