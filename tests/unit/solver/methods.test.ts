import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { greedyColoring, isProperColoring } from "../../../src/core/solver/ordering/coloring.ts";
import { profileMatrix } from "../../../src/core/solver/inspect.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { SolveOptions, SolveResult } from "../../../src/core/solver/types.ts";
import { diagDominantArb, nonsymmetricArb, rhsArb, spdArb } from "./helpers.ts";

const TOL = 1e-8;
type Method = Omit<SolveOptions, "tol" | "maxIter"> & { maxIter?: number };

function withRhs(arb: fc.Arbitrary<CsrMatrix>) {
  return arb.chain((a) => fc.record({ a: fc.constant(a), b: rhsArb(a.rows) }));
}

/** Converged within tol, and the reported certificate is the independent one. */
function expectSolved(r: SolveResult, a: CsrMatrix, b: Float64Array, label: string): void {
  const cert = relativeResidual(a, r.x, b);
  expect(r.relResidual, label).toBe(cert);
  expect(r.converged, `${label}: ${r.reason} ${r.relResidual} via ${r.methodPath.join(">")}`).toBe(true);
  expect(cert, label).toBeLessThanOrEqual(TOL);
}

/** Whatever happened, the report is honest: converged ⇔ certificate ≤ tol. */
function expectHonest(r: SolveResult, a: CsrMatrix, b: Float64Array): void {
  const cert = relativeResidual(a, r.x, b);
  expect(r.relResidual).toBe(cert);
  expect(r.converged).toBe(cert <= TOL);
  if (!r.converged) expect(r.reason).not.toBe("converged");
}

function run(a: CsrMatrix, b: Float64Array, m: Method): SolveResult {
  return solve(a, b, { tol: TOL, maxIter: 5000, ...m } as SolveOptions);
}

const spdMethods: Method[] = [
  { method: "cg", preconditioner: "none" },
  { method: "cg", preconditioner: "jacobi" },
  { method: "cg", preconditioner: "ic0" },
  { method: "gauss_seidel" },
  { method: "gauss_seidel", gsVariant: "multicolor" },
  { method: "gmres", restart: 60 },
  { method: "direct" },
  { method: "hybrid" },
];

const ddMethods: Method[] = [
  { method: "jacobi" },
  { method: "gauss_seidel" },
  { method: "gauss_seidel", gsVariant: "multicolor" },
  { method: "bicgstab", preconditioner: "jacobi" },
  { method: "bicgstab", preconditioner: "ilu0" },
  { method: "gmres" },
  { method: "gmres", preconditioner: "jacobi" },
  { method: "direct" },
  { method: "auto" },
];

const nonsymMethods: Method[] = [
  { method: "gmres", restart: 60 },
  { method: "gmres", preconditioner: "none", restart: 60 },
  { method: "direct" },
  { method: "hybrid" },
];

describe("every method on random systems (js kernels)", () => {
  it("SPD: CG (none/jacobi/ic0), Gauss–Seidel (both), GMRES, direct, hybrid reach 1e-8", () => {
    fc.assert(
      fc.property(withRhs(spdArb), ({ a, b }) => {
        for (const m of spdMethods)
          expectSolved(run(a, b, { ...m, maxIter: 20000 }), a, b, JSON.stringify(m));
      }),
      { numRuns: 60 },
    );
  });

  it("diagonally dominant: Jacobi, Gauss–Seidel, BiCGSTAB (jacobi/ilu0), GMRES, direct, auto reach 1e-8", () => {
    fc.assert(
      fc.property(withRhs(diagDominantArb), ({ a, b }) => {
        for (const m of ddMethods) expectSolved(run(a, b, m), a, b, JSON.stringify(m));
      }),
      { numRuns: 60 },
    );
  });

  it("nonsymmetric, not dominant: GMRES, direct and hybrid reach 1e-8; BiCGSTAB/Jacobi report honestly", () => {
    fc.assert(
      fc.property(withRhs(nonsymmetricArb), ({ a, b }) => {
        for (const m of nonsymMethods) expectSolved(run(a, b, m), a, b, JSON.stringify(m));
        for (const m of [
          { method: "bicgstab" },
          { method: "bicgstab", preconditioner: "ilu0" },
        ] as Method[]) {
          expectHonest(run(a, b, m), a, b);
        }
        // Jacobi either reports honestly or refuses a zero diagonal with its code (permuted cases).
        const hasZeroDiagonal = profileMatrix(a).zeroDiagonals > 0;
        if (hasZeroDiagonal)
          expect(() => run(a, b, { method: "jacobi" })).toThrow(
            expect.objectContaining({ code: "zero_diagonal" }),
          );
        else expectHonest(run(a, b, { method: "jacobi", maxIter: 300 }), a, b);
      }),
      { numRuns: 60 },
    );
  });

  it("a warm start already at the answer takes zero iterations", () => {
    fc.assert(
      fc.property(withRhs(spdArb), ({ a, b }) => {
        const first = run(a, b, { method: "cg" });
        const again = run(a, b, { method: "cg", x0: first.x });
        expect(again.iterations).toBe(0);
        expect(again.converged).toBe(true);
      }),
      { numRuns: 10 },
    );
  });

  it("greedy coloring is proper and partitions the rows", () => {
    fc.assert(
      fc.property(fc.oneof(diagDominantArb, nonsymmetricArb), (a) => {
        const c = greedyColoring(a);
        expect(isProperColoring(a, c)).toBe(true);
        expect([...c.rowsByColor].sort((p, q) => p - q)).toEqual([...Array(a.rows).keys()]);
        for (let col = 0; col < c.numColors; col++) {
          for (let p = c.colorPtr[col]!; p < c.colorPtr[col + 1]!; p++)
            expect(c.colors[c.rowsByColor[p]!]).toBe(col);
        }
      }),
      { numRuns: 30 },
    );
  });
});
