import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csrToCoo, fromCoo } from "../../../src/core/sparse/coo.ts";
import { expectCanonicalCsr } from "./helpers.ts";

/** Random COO input: dimensions, then entries (possibly duplicated) within them. */
const cooArb = fc
  .record({ rows: fc.integer({ min: 1, max: 12 }), cols: fc.integer({ min: 1, max: 12 }) })
  .chain(({ rows, cols }) =>
    fc.record({
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      entries: fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: rows - 1 }),
          fc.integer({ min: 0, max: cols - 1 }),
          // Small integers: sums of duplicates are exact, so the reference can compare with toEqual.
          fc.integer({ min: -1000, max: 1000 }),
        ),
        { maxLength: 60 },
      ),
    }),
  );

/** Reference: sum duplicates in a Map, then list row-major. */
function referenceTriplets(
  entries: readonly (readonly [number, number, number])[],
  cols: number,
): number[][] {
  const sums = new Map<number, number>();
  for (const [i, j, v] of entries) sums.set(i * cols + j, (sums.get(i * cols + j) ?? 0) + v);
  return [...sums.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([key, v]) => [Math.floor(key / cols), key % cols, v]);
}

function triplets(coo: { rowIdx: Int32Array; colIdx: Int32Array; values: Float64Array }): number[][] {
  return Array.from(coo.values, (v, k) => [coo.rowIdx[k]!, coo.colIdx[k]!, v]);
}

describe("COO -> CSR -> COO", () => {
  it("round-trips unique triplets in any order (as the sorted row-major list)", () => {
    fc.assert(
      fc.property(cooArb, ({ rows, cols, entries }) => {
        const seen = new Set<number>();
        const unique = entries.filter(
          ([i, j]) => !seen.has(i * cols + j) && seen.add(i * cols + j) !== undefined,
        );
        const a = fromCoo(
          rows,
          cols,
          unique.map((e) => e[0]),
          unique.map((e) => e[1]),
          unique.map((e) => e[2]),
        );
        expectCanonicalCsr(a);
        expect(triplets(csrToCoo(a))).toEqual(referenceTriplets(unique, cols));
        // And CSR -> COO -> CSR is the identity.
        const back = csrToCoo(a);
        const again = fromCoo(rows, cols, back.rowIdx, back.colIdx, back.values);
        expect(Array.from(again.rowPtr)).toEqual(Array.from(a.rowPtr));
        expect(Array.from(again.colIdx)).toEqual(Array.from(a.colIdx));
        expect(Array.from(again.values)).toEqual(Array.from(a.values));
      }),
      { numRuns: 300 },
    );
  });

  it("sums duplicates exactly like a map-based reference", () => {
    fc.assert(
      fc.property(cooArb, ({ rows, cols, entries }) => {
        const a = fromCoo(
          rows,
          cols,
          entries.map((e) => e[0]),
          entries.map((e) => e[1]),
          entries.map((e) => e[2]),
        );
        expectCanonicalCsr(a);
        expect(triplets(csrToCoo(a))).toEqual(referenceTriplets(entries, cols));
      }),
      { numRuns: 300 },
    );
  });

  it("symmetric expansion mirrors every off-diagonal entry", () => {
    fc.assert(
      fc.property(cooArb, ({ rows, entries }) => {
        const n = rows;
        const lower = entries
          .map(([i, j, v]) => [i % n, j % n, v] as const)
          .map(([i, j, v]) => (i >= j ? ([i, j, v] as const) : ([j, i, v] as const)));
        const a = fromCoo(
          n,
          n,
          lower.map((e) => e[0]),
          lower.map((e) => e[1]),
          lower.map((e) => e[2]),
          { symmetry: "symmetric" },
        );
        const full = lower.flatMap(([i, j, v]) =>
          i === j ? [[i, j, v] as const] : [[i, j, v] as const, [j, i, v] as const],
        );
        expect(triplets(csrToCoo(a))).toEqual(referenceTriplets(full, n));
      }),
      { numRuns: 200 },
    );
  });
});
