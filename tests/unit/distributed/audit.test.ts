import { describe, expect, it } from "vitest";
import { runDistributedInProcess } from "../../../src/core/distributed/in-process.ts";
import type { FromWorker } from "../../../src/core/protocol/distributed.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { seededRandom } from "../../../src/node/seeded-random.ts";
import { convectionDiffusion, loadMatrix, rhsOfOnes } from "./helpers.ts";

// Sabotage of a distributed solve (issue 10, item 8): a block holder that sends finite wrong values. The
// liars here are test-only fakes (FaultPlan.liar): an honest worker whose replies are corrupted on the way
// out. The coordinator's audit (src/core/distributed/audit.ts) must name the liar's block (never a
// neighbour's), its block moves to an honest spare, and the solve completes from the last good checkpoint.

const TOL = 1e-8;
const scale = (v: Float64Array, f: number): Float64Array<ArrayBuffer> => Float64Array.from(v, (e) => e * f);

/** Every number it sends is off by a relative 1e-3: halos, partials, checkpoint x and r, gathered x. */
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

/** Lies only to its neighbours (halo values), from the 15th exchange on; its own x and r stay honest. */
function liesInHalos(m: FromWorker): FromWorker {
  if (m.type !== "halo" || m.seq < 15) return m;
  return { ...m, parts: m.parts.map((p) => ({ ...p, values: scale(p.values, 1.01) })) };
}

/** Fakes convergence: reports (r,r) = 1e-30 once past the first checkpoint. */
function fakesConvergence(m: FromWorker): FromWorker {
  if (m.type !== "dots" || m.epoch < 1) return m;
  return { ...m, partials: m.partials.map((p, i) => (i === 2 ? 1e-30 : p)) };
}

/**
 * Honest in flight, sends a slightly wrong x (relative 1e-6 on every entry) when checkpointing: its halos
 * agree with its real x. (A lie on a few interior entries only is caught by the row sample with a
 * probability per checkpoint of about 16 × the rows touching them / the block's rows; it is harmless: a
 * restart recomputes r = b − A x from whatever x it is given.)
 */
function liesAtCheckpoints(m: FromWorker): FromWorker {
  if (m.type !== "halo" || m.checkpoint === undefined) return m;
  return { ...m, checkpoint: { ...m.checkpoint, x: scale(m.checkpoint.x, 1 + 1e-6) } };
}

describe("block audit: honest solves are never blamed", () => {
  it.each([
    ["bcsstk13, pcg, k = 3", () => loadMatrix("bcsstk13"), "pcg", 3],
    ["poisson2d(60), pcg, k = 4", () => poisson2d(60), "pcg", 4],
    ["convection-diffusion 40², bicgstab, k = 3", () => convectionDiffusion(40, 2), "bicgstab", 3],
  ] as const)("%s", async (_name, matrix, method, k) => {
    const a = matrix();
    const b = rhsOfOnes(a);
    const run = await runDistributedInProcess(a, b, k, {
      method,
      tol: TOL,
      maxIter: 20_000,
      checkpointEvery: 5,
      auditRows: 10_000, // every row, every checkpoint: the tolerance must hold everywhere
      random: seededRandom(3),
    });
    expect(run.result.converged).toBe(true);
    expect(run.result.blamed).toBe(0);
    expect(run.failures).toHaveLength(0);
  });
});

describe("block audit: a holder sending finite wrong values is blamed, replaced, and the solve completes", () => {
  it.each([
    ["lies everywhere (pcg)", liesEverywhere, "pcg"],
    ["lies to its neighbours only (pcg)", liesInHalos, "pcg"],
    ["fakes convergence with its (r,r) partial (pcg)", fakesConvergence, "pcg"],
    ["lies about its checkpoint x (pcg)", liesAtCheckpoints, "pcg"],
    ["lies everywhere (bicgstab)", liesEverywhere, "bicgstab"],
    ["lies to its neighbours only (bicgstab)", liesInHalos, "bicgstab"],
  ] as const)("%s", async (_name, corrupt, method) => {
    const a = method === "pcg" ? poisson2d(40) : convectionDiffusion(40, 2);
    const b = rhsOfOnes(a);
    const options = {
      method,
      tol: TOL,
      maxIter: 5_000,
      checkpointEvery: 10,
      random: seededRandom(5),
    } as const;
    const run = await runDistributedInProcess(a, b, 3, options, { liar: { block: 1, corrupt } });
    // The liar, and only the liar, was caught; its block moved to an honest spare.
    expect(run.failures.map((f) => [f.cause, f.block])).toEqual([["blamed", 1]]);
    expect(run.result.blamed).toBe(1);
    expect(run.result.converged).toBe(true);
    expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
  });

  it("the rollback goes to the last checkpoint every holder's audit passed", async () => {
    const a = poisson2d(40);
    const b = rhsOfOnes(a);
    const run = await runDistributedInProcess(
      a,
      b,
      3,
      { method: "pcg", tol: TOL, maxIter: 5_000, checkpointEvery: 10 },
      { liar: { block: 2, corrupt: liesInHalos } },
    );
    const [f] = run.failures;
    // Lies start at exchange 15 (iteration 14): caught at the checkpoint of iteration 20, back to 10.
    expect(f).toMatchObject({ cause: "blamed", block: 2, rolledBackTo: 10 });
  });
});
