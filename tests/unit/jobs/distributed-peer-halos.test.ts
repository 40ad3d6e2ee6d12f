import { afterEach, describe, expect, it } from "vitest";
import type { HaloRouting } from "../../../src/core/distributed/index.ts";
import type { JobLink } from "../../../src/core/jobs/job-link.ts";
import type { VolunteerFault } from "../../../src/core/jobs/volunteer/volunteer-fault.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { encodeDistPayload, type DistEnvelope } from "../../../src/core/protocol/distributed-frame.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";
import { DIST_TOL, distributedPoisson, volunteersOf } from "./distributed-helpers.ts";

afterEach(cleanup);

const TOL = DIST_TOL;
const distributed = (): SubmitInput => distributedPoisson(40, 3);

/** Bytes a dist frame puts on the wire: its JSON header payload and its binary attachment. */
function wireBytes(env: DistEnvelope): number {
  const { payload, attachment } = encodeDistPayload(env.message);
  return JSON.stringify(payload).length + attachment.byteLength;
}

type Kind = "init" | "checkpoint" | "iteration";

/** Block data, checkpoints (x and r, audited by the requester), or the iterations' own messages. */
function kindOf(env: DistEnvelope): Kind {
  if (env.kind === "init") return "init";
  const m = env.message as { type?: string; checkpoint?: unknown };
  return m.type === "halo" && m.checkpoint !== undefined ? "checkpoint" : "iteration";
}

/** One solve on 3 remote volunteers; the requester's dist traffic in and out, counted at its link. */
async function solveCounting(routing: HaloRouting) {
  const [req, ...vols] = await startPeers(4);
  const traffic: Record<Kind, { bytes: number; frames: number }> = {
    init: { bytes: 0, frames: 0 },
    checkpoint: { bytes: 0, frames: 0 },
    iteration: { bytes: 0, frames: 0 },
  };
  const count = (env: DistEnvelope): void => {
    const t = traffic[kindOf(env)];
    t.bytes += wireBytes(env);
    t.frames++;
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
        listener(from, env);
      }),
  };
  const rt = await startRequester(req!, openRepo(freshDbName()), {
    link: counted,
    volunteers: () => volunteersOf(vols),
    distributedHaloRouting: routing,
  });
  const input = distributed();
  const id = await rt.submit(input);
  await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
  expect(rt.scheduler.job(id)!.status).toBe("done");
  const [x] = await rt.solutions(id);
  expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  const rejected = vols.map((v) => v.volunteer!.distributed.snapshot().rejected);
  return { stats: rt.distributedStats(id)!, traffic, rejected };
}

describe("peer-to-peer halos between block holders", () => {
  it("solves with halos between the holders: the requester carries far fewer bytes, nothing is rejected", async () => {
    const peer = await solveCounting("peer");
    cleanup();
    const routed = await solveCounting("coordinator");
    expect(peer.stats.haloRouting).toBe("peer");
    expect(peer.stats.peerFallbacks).toBe(0);
    expect(routed.stats.haloRouting).toBe("coordinator");
    // The same arithmetic whichever way the halos travel.
    expect(peer.stats.iterations).toBe(routed.stats.iterations);
    for (const r of peer.rejected) expect(r).toEqual({});
    const total = (t: typeof peer.traffic) => t.init.bytes + t.checkpoint.bytes + t.iteration.bytes;
    const n = peer.stats.iterations;
    const line = (t: typeof peer.traffic) =>
      `${total(t)} B in all; iterations ${Math.round(t.iteration.bytes / n)} B and ` +
      `${(t.iteration.frames / n).toFixed(1)} frames per iteration; block data ${t.init.bytes} B; ` +
      `checkpoints ${t.checkpoint.bytes} B`;
    console.log(
      `requester dist traffic, poisson2d(40) in 3 blocks, ${n} iterations:\n` +
        `  peer:        ${line(peer.traffic)}\n  coordinator: ${line(routed.traffic)}`,
    );
    // Routed, every halo value crosses the requester twice; peer to peer, never: what is left per
    // iteration is the reductions (3 partials in, 2 scalars out per block) and the halo-peers notes.
    expect(peer.traffic.iteration.bytes).toBeLessThan(0.4 * routed.traffic.iteration.bytes);
    expect(peer.traffic.iteration.frames).toBeLessThan(routed.traffic.iteration.frames);
    expect(total(peer.traffic)).toBeLessThan(total(routed.traffic));
  }, 60_000);

  it("a holder lying only to its neighbours: the routing falls back, the audit names it, it is banned", async () => {
    // FAULT INJECTION (test-only): an honest block worker whose halo parts are off by 1 % from its 15th
    // exchange on; its own x, r and partials stay honest, so only its neighbours ever see the lie.
    let lies = 0;
    const liesInHalos: VolunteerFault = {
      corrupt: (solved) => solved,
      corruptBlockReply: (m) => {
        if (m.type !== "halo" || m.seq < 15) return m;
        lies++;
        return { ...m, parts: m.parts.map((p) => ({ ...p, values: p.values.map((v) => v * 1.01) })) };
      },
    };
    const peers = await startPeers(3, { fault: (i) => (i === 2 ? liesInHalos : null) });
    const [req, honest, lying] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    // Forced: two volunteers for two blocks, and blocks of one solve go to distinct volunteers while there
    // are enough, so the liar holds one (and its neighbour is the honest one).
    const rt = await startRequester(req, openRepo(freshDbName()), {
      distributedHaloRouting: "peer",
      volunteers: () => volunteersOf([honest, lying]),
    });
    const input = { ...distributed(), blocks: 2 };
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
    expect(lies).toBeGreaterThan(0);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const stats = rt.distributedStats(id)!;
    expect(stats.peerFallbacks).toBe(1);
    expect(stats.haloRouting).toBe("coordinator");
    expect(stats.blamed).toBe(1);
    expect(rt.scheduler.reputation.isBanned(lying.mesh.peerId, Date.now())).toBe(true);
    // The neighbour it lied to was never blamed.
    expect(rt.scheduler.reputation.get(honest.mesh.peerId).totalInvalid).toBe(0);
    const [x] = await rt.solutions(id);
    expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  }, 30_000);
});
