import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { symmetricGraph } from "../../../src/core/sparse/structure.ts";
import { envelopeSize, reverseCuthillMcKee } from "../../../src/core/solver/ordering/rcm.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { luSolve, sparseLu } from "../../../src/core/solver/methods/sparse-lu.ts";
import { permuteRows, zeroFreeDiagonal } from "../../../src/core/solver/ordering/transversal.ts";
import { denseToCsr, loadMatrix, multiply, nonsymmetricArb, rhsArb } from "./helpers.ts";

function isPermutation(p: Int32Array): boolean {
  return [...p].sort((x, y) => x - y).every((v, i) => v === i);
}

/** A banded matrix (half-bandwidth 2) whose rows and columns were shuffled symmetrically. */
function shuffledBand(n: number, seed: number): CsrMatrix {
  const perm = [...Array(n).keys()];
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - 2); j <= Math.min(n - 1, i + 2); j++)
      d[perm[i]! * n + perm[j]!] = i === j ? 6 : -1;
  }
  return denseToCsr(n, d);
}

describe("direct sparse LU", () => {
  it("RCM returns a permutation that recovers a shuffled band's narrow envelope", () => {
    const a = shuffledBand(200, 7);
    const g = symmetricGraph(a);
    const p = reverseCuthillMcKee(g);
    expect(isPermutation(p)).toBe(true);
    const identity = Int32Array.from({ length: 200 }, (_, i) => i);
    expect(envelopeSize(g, p)).toBeLessThanOrEqual(4 * 200);
    expect(envelopeSize(g, identity)).toBeGreaterThan(10 * 200);
  });

  it("P A Q = L U solves random nonsymmetric systems (many with zero diagonals) to rounding level", () => {
    fc.assert(
      fc.property(
        nonsymmetricArb.chain((a) => fc.record({ a: fc.constant(a), b: rhsArb(a.rows) })),
        ({ a, b }) => {
          const q = reverseCuthillMcKee(symmetricGraph(a));
          const f = sparseLu(a, q, { pivotTol: 0.1, maxFill: 1e6 });
          const x = new Float64Array(a.rows);
          luSolve(f, b, x, new Float64Array(a.rows));
          const ax = multiply(a, x);
          const r = Math.hypot(...ax.map((v, i) => v - b[i]!)) / Math.hypot(...b);
          expect(r).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("zeroFreeDiagonal finds a row permutation with a nonzero diagonal, or null if none exists", () => {
    const west = loadMatrix("west0479");
    const rowOf = zeroFreeDiagonal(west)!;
    expect(isPermutation(rowOf)).toBe(true);
    const pa = permuteRows(west, rowOf);
    for (let i = 0; i < pa.rows; i++) {
      let d = 0;
      for (let k = pa.rowPtr[i]!; k < pa.rowPtr[i + 1]!; k++) if (pa.colIdx[k] === i) d = pa.values[k]!;
      expect(d).not.toBe(0);
    }
    // Two rows with entries only in column 0: structurally singular.
    const singular = denseToCsr(3, Float64Array.from([1, 0, 0, 1, 0, 0, 0, 1, 1]));
    expect(zeroFreeDiagonal(singular)).toBeNull();
  });

  it("a singular matrix gives reason singular, not a crash or a fake answer", () => {
    const a = denseToCsr(3, Float64Array.from([1, 2, 0, 2, 4, 0, 0, 0, 1]));
    const r = solve(a, Float64Array.from([1, 1, 1]), { method: "direct", tol: 1e-8, maxIter: 10 });
    expect(r.converged).toBe(false);
    expect(r.reason).toBe("singular");
  });
});
