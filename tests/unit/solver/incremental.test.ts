import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyUpdates } from "../../../src/core/solver/updates/patch.ts";
import { resolveIncremental } from "../../../src/core/solver/updates/resolve.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { SolveOptions } from "../../../src/core/solver/types.ts";
import { csrToDense, diagDominantArb, loadMatrix, multiply, ones } from "./helpers.ts";

describe("incremental updates", () => {
  it("applyUpdates matches a dense model, keeps CSR invariants and leaves the inputs alone", () => {
    const arb = diagDominantArb.chain((a) =>
      fc.record({
        a: fc.constant(a),
        ups: fc.array(
          fc.record({
            row: fc.nat({ max: a.rows - 1 }),
            col: fc.nat({ max: a.rows - 1 }),
            value: fc.integer({ min: -100, max: 100 }),
            mode: fc.constantFrom("set" as const, "add" as const),
          }),
          { maxLength: 12 },
        ),
      }),
    );
    fc.assert(
      fc.property(arb, ({ a, ups }) => {
        const n = a.rows;
        const before = a.values.slice();
        const b = ones(n);
        const dense = csrToDense(a);
        const stored = new Set<number>();
        for (let i = 0; i < n; i++)
          for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) stored.add(i * n + a.colIdx[k]!);
        for (const u of ups) {
          const p = u.row * n + u.col;
          dense[p] = u.mode === "add" ? dense[p]! + u.value : u.value;
          stored.add(p);
        }
        const out = applyUpdates(a, b, { matrix: ups, rhs: [{ index: 0, value: 2, mode: "add" }] });
        expect(csrToDense(out.a)).toEqual(dense);
        expect(out.a.rowPtr[n]).toBe(stored.size);
        for (let i = 0; i < n; i++) {
          for (let k = out.a.rowPtr[i]! + 1; k < out.a.rowPtr[i + 1]!; k++) {
            expect(out.a.colIdx[k]!).toBeGreaterThan(out.a.colIdx[k - 1]!);
          }
        }
        expect(out.b[0]).toBe(3);
        expect(b[0]).toBe(1);
        expect(a.values).toEqual(before);
        expect(out.patternChanged).toBe(out.newEntries > 0);
      }),
      { numRuns: 40 },
    );
  });

  it("refuses out-of-range or non-finite updates with their specific codes", () => {
    const a = loadMatrix("LFAT5");
    const b = ones(a.rows);
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => applyUpdates(a, b, { matrix: [{ row: 99, col: 0, value: 1 }] }))).toBe(
      "update_index_out_of_range",
    );
    expect(code(() => applyUpdates(a, b, { matrix: [{ row: 0, col: -1, value: 1 }] }))).toBe(
      "update_index_out_of_range",
    );
    expect(code(() => applyUpdates(a, b, { matrix: [{ row: 0.5, col: 0, value: 1 }] }))).toBe(
      "update_index_out_of_range",
    );
    expect(code(() => applyUpdates(a, b, { rhs: [{ index: 0, value: NaN }] }))).toBe("update_non_finite");
    const huge = { row: 0, col: 0, value: 1e308, mode: "add" as const };
    expect(code(() => applyUpdates(a, b, { matrix: [huge, huge] }))).toBe("update_non_finite");
    // Two adds to an entry outside the pattern overflow in the inserted entry.
    expect(
      code(() =>
        applyUpdates(a, b, {
          matrix: [
            { row: 0, col: 13, value: 1e308, mode: "add" },
            { row: 0, col: 13, value: 1e308, mode: "add" },
          ],
        }),
      ),
    ).toBe("update_non_finite");
  });

  it("a warm re-solve after a small update takes fewer iterations than a cold one", () => {
    const a = loadMatrix("494_bus");
    const b = multiply(a, ones(a.rows));
    const options: SolveOptions = { method: "cg", preconditioner: "jacobi", tol: 1e-8, maxIter: 5000 };
    const first = solve(a, b, options);
    expect(first.converged).toBe(true);
    const d0 = a.values[a.rowPtr[0]!]!; // a_00 is stored first in row 0
    const inc = resolveIncremental(
      a,
      b,
      first.x,
      {
        matrix: [{ row: 0, col: 0, value: 0.01 * d0, mode: "add" }],
        rhs: [3, 50, 200].map((index) => ({ index, value: 0.5, mode: "add" as const })),
      },
      options,
      { compareCold: true },
    );
    expect(inc.patternChanged).toBe(false);
    expect(inc.warm.converged).toBe(true);
    expect(inc.cold?.converged).toBe(true);
    expect(inc.warm.iterations).toBeLessThan(inc.cold!.iterations);
    expect(inc.iterationsSaved).toBe(inc.cold!.iterations - inc.warm.iterations);
    expect(inc.iterationsSaved!).toBeGreaterThan(0);
  });

  it("hybrid warm starts too, and a new entry rebuilds the pattern", () => {
    const a = loadMatrix("bfwa62");
    const b = multiply(a, ones(a.rows));
    const options: SolveOptions = { method: "hybrid", tol: 1e-10, maxIter: 5000 };
    const first = solve(a, b, options);
    let missingCol = 0;
    while (a.colIdx.subarray(a.rowPtr[5]!, a.rowPtr[6]!).includes(missingCol)) missingCol++;
    const inc = resolveIncremental(
      a,
      b,
      first.x,
      { matrix: [{ row: 5, col: missingCol, value: 1e-4 }], rhs: [{ index: 1, value: 1e-4, mode: "add" }] },
      options,
      {
        compareCold: true,
      },
    );
    expect(inc.patternChanged).toBe(true);
    expect(inc.newEntries).toBe(1);
    expect(inc.warm.converged).toBe(true);
    expect(inc.warm.iterations).toBeLessThan(inc.cold!.iterations);
  });
});
