import { describe, expect, it } from "vitest";
import { runDistributedInProcess } from "../../../src/core/distributed/in-process.ts";
import type { FromWorker } from "../../../src/core/protocol/distributed.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { seededRandom } from "../../../src/node/seeded-random.ts";
import { convectionDiffusion, rhsOfOnes } from "./helpers.ts";

// Peer-to-peer halos (issue 12 item 4): the requester no longer sees the halos, so its audit works from
// the checkpoints alone (audit.ts checkAgainst). A lie it cannot attribute makes the coordinator fall
// back to coordinator routing, where the exact audit names the liar. Liars are test-only fakes
// (FaultPlan.liar): an honest worker whose replies are corrupted on the way out.

const TOL = 1e-8;
const scale = (v: Float64Array, f: number): Float64Array<ArrayBuffer> => Float64Array.from(v, (e) => e * f);

function liesEverywhere(m: FromWorker): FromWorker {
  const f = 1 + 1e-3;
  if (m.type === "halo") {
    const parts = m.parts.map((p) => ({ ...p, values: scale(p.values, f) }));
    const checkpoint =
      m.checkpoint === undefined
        ? undefined
        : { ...m.checkpoint, x: scale(m.checkpoint.x, f), r: scale(m.checkpoint.r, f) };
    return checkpoint === undefined ? { ...m, parts } : { ...m, parts, checkpoint };
  }
  if (m.type === "dots") return { ...m, partials: m.partials.map((p) => p * f) };
  if (m.type === "x") return { ...m, x: scale(m.x, f) };
  return m;
}

/** Lies only to its neighbours (halo values), from the 15th exchange on: the requester never sees them. */
function liesInHalos(m: FromWorker): FromWorker {
  if (m.type !== "halo" || m.seq < 15) return m;
  return { ...m, parts: m.parts.map((p) => ({ ...p, values: scale(p.values, 1.01) })) };
}

function fakesConvergence(m: FromWorker): FromWorker {
  if (m.type !== "dots" || m.epoch < 1) return m;
  return { ...m, partials: m.partials.map((p, i) => (i === 2 ? 1e-30 : p)) };
}

describe("peer halo routing", () => {
  it.each([
    ["poisson2d(60), pcg, k = 4", () => poisson2d(60), "pcg", 4],
    ["convection-diffusion 40², bicgstab, k = 3", () => convectionDiffusion(40, 2), "bicgstab", 3],
  ] as const)(
    "honest %s: never blamed, never falls back, the same iterates as routed halos",
    async (_n, matrix, method, k) => {
      const a = matrix();
      const b = rhsOfOnes(a);
      const options = { method, tol: TOL, maxIter: 20_000, checkpointEvery: 5, auditRows: 10_000 } as const;
      const peer = await runDistributedInProcess(a, b, k, {
        ...options,
        haloRouting: "peer",
        random: seededRandom(3),
      });
      expect(peer.result.converged).toBe(true);
      expect(peer.result.blamed).toBe(0);
      expect(peer.result.peerFallbacks).toBe(0);
      expect(peer.result.haloRouting).toBe("peer");
      const routed = await runDistributedInProcess(a, b, k, { ...options, random: seededRandom(3) });
      // Same arithmetic whichever way the halos travel.
      expect(peer.result.iterations).toBe(routed.result.iterations);
      expect(peer.result.x).toEqual(routed.result.x);
    },
  );

  it.each([
    ["lies everywhere (pcg)", liesEverywhere, "pcg"],
    ["lies to its neighbours only (pcg)", liesInHalos, "pcg"],
    ["fakes convergence with its (r,r) partial (pcg)", fakesConvergence, "pcg"],
    ["lies everywhere (bicgstab)", liesEverywhere, "bicgstab"],
    ["lies to its neighbours only (bicgstab)", liesInHalos, "bicgstab"],
  ] as const)(
    "a liar that %s is blamed, only it, and the solve completes",
    async (_name, corrupt, method) => {
      const a = method === "pcg" ? poisson2d(40) : convectionDiffusion(40, 2);
      const b = rhsOfOnes(a);
      const options = {
        method,
        tol: TOL,
        maxIter: 5_000,
        checkpointEvery: 10,
        random: seededRandom(5),
        haloRouting: "peer",
      } as const;
      const run = await runDistributedInProcess(a, b, 3, options, { liar: { block: 1, corrupt } });
      // A lie only its neighbours saw cannot be pinned from the checkpoints: the routing fell back first.
      if (corrupt === liesInHalos) expect(run.result.peerFallbacks).toBe(1);
      expect(run.result.haloRouting).toBe(corrupt === liesInHalos ? "coordinator" : "peer");
      expect(run.failures.map((f) => [f.cause, f.block])).toEqual([["blamed", 1]]);
      expect(run.result.blamed).toBe(1);
      expect(run.result.converged).toBe(true);
      expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
    },
  );

  it("catches a lie in the halos whatever the row sample: every row with a halo column is checked", async () => {
    const a = poisson2d(40);
    const b = rhsOfOnes(a);
    const options = {
      method: "pcg",
      tol: TOL,
      maxIter: 5_000,
      checkpointEvery: 10,
      haloRouting: "peer",
    } as const;
    // No sampled rows at all: only the rows with halo columns are judged.
    const run = await runDistributedInProcess(
      a,
      b,
      3,
      { ...options, auditRows: 0 },
      { liar: { block: 1, corrupt: liesInHalos } },
    );
    expect(run.result.peerFallbacks).toBe(1);
    expect(run.failures.map((f) => [f.cause, f.block])).toEqual([["blamed", 1]]);
    expect(run.result.converged).toBe(true);
  });
});
