import { describe, expect, it } from "vitest";
import { runDistributedInProcess } from "../../../src/core/distributed/in-process.ts";
import { partitionRows } from "../../../src/core/distributed/partition.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { loadMatrix, rhsOfOnes } from "./helpers.ts";

const TOL = 1e-8;
/** Generous per-message and per-halo-part header allowances (the payload is what must scale). */
const MESSAGE_OVERHEAD = 128;
const PART_OVERHEAD = 96;

describe("traffic per iteration", () => {
  it.each([2, 3, 4])("k = %i: halo values of one vector and a few scalars per block, no more", async (k) => {
    const a = loadMatrix("bcsstk13");
    const b = rhsOfOnes(a);
    const part = partitionRows(a, k);
    const haloValues = part.blocks.reduce((s, bl) => s + bl.haloCols.length, 0);
    const pairs = part.blocks.reduce((s, bl) => s + bl.exports.length, 0);
    const via = await runDistributedInProcess(a, b, k, { method: "pcg", tol: TOL, maxIter: 20_000 });
    const it = via.result.iterations;
    // Through the coordinator a halo value travels twice (to it, then on); +1 exchange for r = b − A x.
    const haloPerIter = (via.traffic.halo?.bytes ?? 0) / it;
    expect(haloPerIter).toBeGreaterThanOrEqual(2 * 8 * haloValues);
    expect(haloPerIter).toBeLessThanOrEqual(
      ((it + 1) / it) * 2 * (8 * haloValues + pairs * PART_OVERHEAD + k * MESSAGE_OVERHEAD),
    );
    // One reduction per iteration: K dots up, K scalars down, each a few numbers.
    expect(via.traffic.dots!.messages).toBeLessThanOrEqual(k * (it + 2));
    expect(via.traffic.scalars!.messages).toBeLessThanOrEqual(k * (it + 1));
    const bound =
      ((it + 1) / it) * (2 * 8 * haloValues + 2 * pairs * PART_OVERHEAD + 4 * k * MESSAGE_OVERHEAD);
    expect(via.perIteration.bytes).toBeLessThanOrEqual(bound);
    expect(via.perIteration.messages).toBeLessThanOrEqual(4 * k + 0.1);

    // Peer to peer: each halo value crosses once, as one message per neighbour pair.
    const p2p = await runDistributedInProcess(a, b, k, {
      method: "pcg",
      tol: TOL,
      maxIter: 20_000,
      haloRouting: "peer",
    });
    const p2pHalo = (p2p.traffic.halo?.bytes ?? 0) / it;
    expect(p2pHalo).toBeGreaterThanOrEqual(8 * haloValues);
    expect(p2pHalo).toBeLessThanOrEqual(((it + 1) / it) * (8 * haloValues + pairs * PART_OVERHEAD));
    console.info(
      `k=${k}: ${haloValues} halo values; bytes/iteration via coordinator ${via.perIteration.bytes.toFixed(0)}, ` +
        `peer-to-peer ${p2p.perIteration.bytes.toFixed(0)}; messages/iteration ${via.perIteration.messages.toFixed(2)} / ${p2p.perIteration.messages.toFixed(2)}`,
    );
  });
});

describe("failover", () => {
  it("worker 1 killed at iteration 30: a spare takes block 1, the solve resumes from the checkpoint", async () => {
    const a = poisson2d(60);
    const b = rhsOfOnes(a);
    const opts = { method: "pcg", tol: TOL, maxIter: 5000, checkpointEvery: 10 } as const;
    const cold = await runDistributedInProcess(a, b, 4, opts);
    const hot = await runDistributedInProcess(a, b, 4, opts, { kills: [{ block: 1, atIteration: 30 }] });
    expect(hot.failures).toHaveLength(1);
    const f = hot.failures[0]!;
    expect(f.atIteration).toBe(30);
    // Rolled back to a real checkpoint (20 or 30), not to x0.
    expect(f.rolledBackTo).toBeGreaterThanOrEqual(20);
    expect(hot.result.failovers).toBe(1);
    expect(hot.result.converged).toBe(true);
    expect(relativeResidual(a, hot.result.x, b)).toBeLessThanOrEqual(TOL);
    // Progress was kept: fewer iterations after the failure than a cold solve needs in all.
    const after = hot.result.iterations - f.atIteration;
    expect(after).toBeLessThan(cold.result.iterations);
    expect(hot.traffic.init!.messages).toBe(5); // 4 blocks + the spare
    console.info(
      `cold ${cold.result.iterations} iterations; killed at ${f.atIteration}, resumed from ${f.rolledBackTo}, ${after} more`,
    );
  });

  it("keeps progress on bcsstk13 too (killed late), with halos peer to peer", async () => {
    const a = loadMatrix("bcsstk13");
    const b = rhsOfOnes(a);
    const opts = {
      method: "pcg",
      tol: TOL,
      maxIter: 20_000,
      haloRouting: "peer",
      checkpointEvery: 25,
    } as const;
    const cold = await runDistributedInProcess(a, b, 3, opts);
    const hot = await runDistributedInProcess(a, b, 3, opts, { kills: [{ block: 1, atIteration: 300 }] });
    const f = hot.failures[0]!;
    expect(hot.result.converged).toBe(true);
    expect(relativeResidual(a, hot.result.x, b)).toBeLessThanOrEqual(TOL);
    expect(hot.result.iterations - f.atIteration).toBeLessThan(cold.result.iterations);
    console.info(
      `bcsstk13 cold ${cold.result.iterations}; killed at 300, resumed from ${f.rolledBackTo}, total ${hot.result.iterations}`,
    );
  });

  it("two failures, one before the first checkpoint (restart from x0), still converge", async () => {
    const a = poisson2d(40);
    const b = rhsOfOnes(a);
    const run = await runDistributedInProcess(
      a,
      b,
      3,
      { method: "pcg", tol: TOL, maxIter: 5000, checkpointEvery: 10 },
      {
        kills: [
          { block: 0, atIteration: 5 },
          { block: 2, atIteration: 40 },
        ],
      },
    );
    expect(run.failures.map((f) => f.rolledBackTo)[0]).toBe(0);
    expect(run.failures[1]!.rolledBackTo).toBeGreaterThanOrEqual(30);
    expect(run.result.failovers).toBe(2);
    expect(run.result.converged).toBe(true);
    expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
  });

  it("a second failure before the next checkpoint rolls the earlier replacement back too", async () => {
    const a = poisson2d(40);
    const b = rhsOfOnes(a);
    const run = await runDistributedInProcess(
      a,
      b,
      4,
      { method: "pcg", tol: TOL, maxIter: 5000, checkpointEvery: 10 },
      {
        kills: [
          { block: 1, atIteration: 30 },
          { block: 3, atIteration: 35 },
        ],
      },
    );
    expect(run.failures.map((f) => f.rolledBackTo)).toEqual([20, 20]);
    expect(run.result.converged).toBe(true);
    expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
  });

  it("three failures in a row, each before the next checkpoint commits, still roll back consistently", async () => {
    const a = poisson2d(40);
    const b = rhsOfOnes(a);
    const kills = [
      { block: 0, atIteration: 25 },
      { block: 1, atIteration: 32 },
      { block: 2, atIteration: 38 },
    ];
    const run = await runDistributedInProcess(
      a,
      b,
      3,
      { method: "pcg", tol: TOL, maxIter: 5000, checkpointEvery: 5 },
      { kills },
    );
    expect(run.failures).toHaveLength(3);
    expect(run.result.converged).toBe(true);
    expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
    console.info(`rolled back to ${run.failures.map((f) => f.rolledBackTo).join(", ")}`);
  });
});
