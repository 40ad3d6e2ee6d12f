import { describe, expect, it } from "vitest";
import { runDistributedInProcess } from "../../../src/core/distributed/in-process.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { loadMatrix, relDiff, rhsOfOnes } from "./helpers.ts";

const TOL = 1e-8;
const cases: { name: string; a: () => CsrMatrix; maxDiff: number }[] = [
  { name: "poisson2d(60)", a: () => poisson2d(60), maxDiff: 1e-6 },
  // cond(bcsstk13) ≈ 1e10: two solutions with residual 1e-8 differ by about 1e-4 (measured), not 1e-8.
  { name: "bcsstk13", a: () => loadMatrix("bcsstk13"), maxDiff: 2e-3 },
];

describe.each(cases)("distributed PCG (block-IC(0), Chronopoulos–Gear) on $name", ({ a: make, maxDiff }) => {
  const a = make();
  const b = rhsOfOnes(a);
  const single = solve(a, b, { method: "cg", preconditioner: "ic0", tol: TOL, maxIter: 20_000 });
  const iterations: Record<number, number> = {};

  it.each([1, 2, 3, 4])(
    "k = %i reaches a certified 1e-8 and matches the single-process solution",
    async (k) => {
      const run = await runDistributedInProcess(a, b, k, { method: "pcg", tol: TOL, maxIter: 20_000 });
      iterations[k] = run.result.iterations;
      expect(run.result.converged).toBe(true);
      expect(run.result.reason).toBe("converged");
      // The certificate is recomputed here too, independently of the coordinator's.
      expect(relativeResidual(a, run.result.x, b)).toBeLessThanOrEqual(TOL);
      expect(run.result.relResidual).toBeLessThanOrEqual(TOL);
      expect(relDiff(run.result.x, single.x)).toBeLessThanOrEqual(maxDiff);
      // bcsstk13's blocks need a diagonal shift for IC(0) (as the single-process ic0 does): the name says so.
      expect(run.result.blockPreconditioners).toHaveLength(k);
      for (const name of run.result.blockPreconditioners) expect(name).toMatch(/^ic0/);
      if (k === 1) {
        // One block: block-IC(0) is IC(0) of A, so the iteration is the single-process one up to rounding.
        expect(Math.abs(run.result.iterations - single.iterations)).toBeLessThanOrEqual(3);
      }
      console.info(
        `${run.result.label}: ${run.result.iterations} iterations (single cg+ic0: ${single.iterations})`,
      );
    },
  );

  it("peer-to-peer halo routing gives the same iterates as routing through the coordinator", async () => {
    const via = await runDistributedInProcess(a, b, 3, { method: "pcg", tol: TOL, maxIter: 20_000 });
    const p2p = await runDistributedInProcess(a, b, 3, {
      method: "pcg",
      tol: TOL,
      maxIter: 20_000,
      haloRouting: "peer",
    });
    expect(p2p.result.iterations).toBe(via.result.iterations);
    expect(p2p.result.x).toEqual(via.result.x);
  });
});

describe("distributed PCG details", () => {
  it("is deterministic: the same run twice gives bit-identical x", async () => {
    const a = poisson2d(30);
    const b = rhsOfOnes(a);
    const r1 = await runDistributedInProcess(a, b, 4, { method: "pcg", tol: TOL, maxIter: 2000 });
    const r2 = await runDistributedInProcess(a, b, 4, { method: "pcg", tol: TOL, maxIter: 2000 });
    expect(r2.result.x).toEqual(r1.result.x);
  });

  it("with Jacobi blocks does exactly the iterations of global Jacobi-PCG, whatever k", async () => {
    const a = poisson2d(40);
    const b = rhsOfOnes(a);
    const counts: number[] = [];
    for (const k of [1, 2, 4]) {
      const run = await runDistributedInProcess(a, b, k, {
        method: "pcg",
        preconditioner: "jacobi",
        tol: TOL,
        maxIter: 5000,
      });
      expect(run.result.converged).toBe(true);
      counts.push(run.result.iterations);
    }
    const single = solve(a, b, { method: "cg", preconditioner: "jacobi", tol: TOL, maxIter: 5000 });
    for (const c of counts) expect(Math.abs(c - single.iterations)).toBeLessThanOrEqual(3);
  });

  it("says it did not converge, with the certified residual, when maxIter is too small", async () => {
    const a = loadMatrix("bcsstk13");
    const b = rhsOfOnes(a);
    const run = await runDistributedInProcess(a, b, 2, { method: "pcg", tol: TOL, maxIter: 20 });
    expect(run.result.converged).toBe(false);
    expect(run.result.reason).toBe("max-iterations");
    expect(run.result.iterations).toBe(20);
    expect(run.result.relResidual).toBeGreaterThan(TOL);
    expect(run.result.relResidual).toBeCloseTo(relativeResidual(a, run.result.x, b), 12);
  });

  it("survives simulated network latency", async () => {
    const a = poisson2d(20);
    const b = rhsOfOnes(a);
    const run = await runDistributedInProcess(a, b, 2, {
      method: "pcg",
      tol: TOL,
      maxIter: 1000,
      latencyMs: 1,
    });
    expect(run.result.converged).toBe(true);
  });
});
