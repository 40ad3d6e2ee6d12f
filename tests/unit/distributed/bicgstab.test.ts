import { describe, expect, it } from "vitest";
import { runDistributedInProcess } from "../../../src/core/distributed/in-process.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { convectionDiffusion, loadMatrix, relDiff, rhsOfOnes } from "./helpers.ts";

const TOL = 1e-8;
const cases: { name: string; a: () => CsrMatrix }[] = [
  { name: "cage5", a: () => loadMatrix("cage5") },
  { name: "bfwa62", a: () => loadMatrix("bfwa62") },
  { name: "convection-diffusion 40×40, c = 2", a: () => convectionDiffusion(40, 2) },
];

describe.each(cases)("distributed BiCGSTAB (block-ILU(0)) on $name", ({ a: make }) => {
  const a = make();
  const b = rhsOfOnes(a);
  it.each([1, 2, 3, 4])("k = %i converges to a certified 1e-8 (x ≈ 1)", async (k) => {
    const run = await runDistributedInProcess(a, b, k, { method: "bicgstab", tol: TOL, maxIter: 5000 });
    expect(run.result.converged).toBe(true);
    expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
    expect(relDiff(run.result.x, new Float64Array(a.rows).fill(1))).toBeLessThan(1e-4);
    console.info(`${run.result.label}: ${run.result.iterations} iterations`);
  });
});

describe("distributed BiCGSTAB, hard cases", () => {
  it("reports non-convergence on west0479 (not diagonally dominant) with its certified residual", async () => {
    const a = loadMatrix("west0479");
    const b = rhsOfOnes(a);
    const run = await runDistributedInProcess(a, b, 2, { method: "bicgstab", tol: TOL, maxIter: 300 });
    expect(run.result.converged).toBe(false);
    expect(run.result.reason === "max-iterations" || run.result.reason === "breakdown").toBe(true);
    expect(run.result.relResidual).toBeGreaterThan(TOL);
    expect(run.result.relResidual).toBe(relativeResidual(a, run.result.x, b));
  });

  it("fails over: a block lost at iteration 10 moves to a spare and the solve converges", async () => {
    const a = convectionDiffusion(40, 2);
    const b = rhsOfOnes(a);
    const opts = {
      method: "bicgstab",
      tol: TOL,
      maxIter: 5000,
      checkpointEvery: 5,
      haloRouting: "peer",
    } as const;
    const run = await runDistributedInProcess(a, b, 3, opts, { kills: [{ block: 1, atIteration: 10 }] });
    expect(run.failures[0]!.rolledBackTo).toBeGreaterThanOrEqual(5);
    expect(run.result.converged).toBe(true);
    expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
  });
});
