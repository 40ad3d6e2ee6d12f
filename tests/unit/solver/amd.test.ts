import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { amdOrder, amdOrderGraph } from "../../../src/core/solver/ordering/amd/amd.ts";
import { choleskyFillCount } from "../../../src/core/solver/ordering/amd/fill.ts";
import { denseThreshold } from "../../../src/core/solver/ordering/amd/state.ts";
import type { Graph } from "../../../src/core/sparse/structure.ts";
import { symmetricGraph } from "../../../src/core/sparse/structure.ts";
import { SolverError } from "../../../src/core/solver/errors.ts";
import { reverseCuthillMcKee } from "../../../src/core/solver/ordering/rcm.ts";
import { poisson2d, poisson3d } from "../../../src/core/sparse/generators.ts";

function isPermutation(p: Int32Array, n: number): boolean {
  return p.length === n && [...p].sort((x, y) => x - y).every((v, i) => v === i);
}

/** Symmetric adjacency (no self-loops, no duplicates) from an edge list. */
function graphOf(n: number, edges: Iterable<readonly [number, number]>): Graph {
  const sets = Array.from({ length: n }, () => new Set<number>());
  for (const [i, j] of edges) {
    if (i === j) continue;
    sets[i]!.add(j);
    sets[j]!.add(i);
  }
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) ptr[i + 1] = ptr[i]! + sets[i]!.size;
  const idx = new Int32Array(ptr[n]!);
  for (let i = 0; i < n; i++)
    idx.set(
      [...sets[i]!].sort((x, y) => x - y),
      ptr[i]!,
    );
  return { n, ptr, idx };
}

const degreeOf = (g: Graph, i: number): number => g.ptr[i + 1]! - g.ptr[i]!;
const identity = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/**
 * Random symmetric patterns with the awkward features: several interleaved components (node i is in
 * component i mod c), rows joined to every other node of their component (dense), and isolated rows.
 */
const patternArb = fc
  .integer({ min: 1, max: 90 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      components: fc.integer({ min: 1, max: 4 }),
      edges: fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 })), { maxLength: 4 * n }),
      dense: fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: 3 }),
      empty: fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: Math.ceil(n / 5) }),
      alpha: fc.constantFrom(10, 1, 0, -1),
    }),
  )
  .map(({ n, components, edges, dense, empty, alpha }) => {
    const comp = (i: number) => i % components;
    const all: [number, number][] = edges.filter(([i, j]) => comp(i) === comp(j));
    for (const d of dense) for (let j = 0; j < n; j++) if (comp(j) === comp(d)) all.push([d, j]);
    const isolated = new Set(empty);
    return {
      g: graphOf(
        n,
        all.filter(([i, j]) => !isolated.has(i) && !isolated.has(j)),
      ),
      alpha,
    };
  });

describe("approximate minimum degree ordering", () => {
  it("returns a permutation on random patterns (empty and dense rows, components, n = 1)", () => {
    fc.assert(
      fc.property(patternArb, ({ g, alpha }) => {
        const { perm, stats } = amdOrderGraph(g, { denseAlpha: alpha });
        expect(isPermutation(perm, g.n)).toBe(true);
        // Every variable is accounted for exactly once by the statistics' categories.
        let empty = 0;
        for (let i = 0; i < g.n; i++) if (degreeOf(g, i) === 0) empty++;
        expect(stats.empty).toBe(empty);
        // Dense rows (degree above the threshold) are removed up front and ordered last.
        const threshold = denseThreshold(g.n, alpha);
        const dense = new Set<number>();
        for (let i = 0; i < g.n; i++) if (degreeOf(g, i) > threshold && degreeOf(g, i) > 0) dense.add(i);
        expect(stats.dense).toBe(dense.size);
        expect(new Set(perm.subarray(g.n - dense.size))).toEqual(dense);
      }),
      { numRuns: 400 },
    );
  });

  it("handles n = 0, n = 1 and a matrix with no off-diagonal entries", () => {
    expect(amdOrderGraph(graphOf(0, [])).perm).toEqual(new Int32Array(0));
    expect(amdOrderGraph(graphOf(1, [])).perm).toEqual(Int32Array.of(0));
    const diag = amdOrderGraph(graphOf(5, []));
    expect(isPermutation(diag.perm, 5)).toBe(true);
    expect(diag.stats.empty).toBe(5);
  });

  it("orders a tree with no fill at all (minimum degree eliminates leaves first)", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 200 })
          .chain((n) => fc.array(fc.nat(), { minLength: n - 1, maxLength: n - 1 }).map((r) => ({ n, r }))),
        ({ n, r }) => {
          // Node i + 1 hangs from a random earlier node: a random tree.
          const g = graphOf(
            n,
            r.map((v, i) => [i + 1, v % (i + 1)] as const),
          );
          const { perm } = amdOrderGraph(g);
          expect(choleskyFillCount(g, perm)).toBe(n + (n - 1)); // L = the tree's edges + diagonal
        },
      ),
      { numRuns: 100 },
    );
  });

  it("puts the hub of an arrowhead last, so the factor has no fill", () => {
    const n = 400;
    const g = graphOf(
      n,
      Array.from({ length: n - 1 }, (_, i) => [0, i + 1] as const),
    );
    const res = amdOrderGraph(g);
    expect(res.stats.dense).toBe(1); // degree 399 > 10·√400
    expect(res.perm[n - 1]).toBe(0);
    expect(choleskyFillCount(g, res.perm)).toBe(2 * n - 1);
    // Without dense-row removal the hub still ends last: its degree stays highest.
    const plain = amdOrderGraph(g, { denseAlpha: -1 });
    expect(plain.stats.dense).toBe(0);
    expect(choleskyFillCount(g, plain.perm)).toBe(2 * n - 1);
    // The natural order eliminates the hub first and fills everything.
    expect(choleskyFillCount(g, identity(n))).toBe((n * (n + 1)) / 2);
  });

  it("finds supervariables and mass elimination on a grid, and beats RCM's symbolic fill", () => {
    for (const a of [poisson2d(60), poisson3d(14)]) {
      const g = symmetricGraph(a);
      const { perm, stats } = amdOrderGraph(g);
      expect(isPermutation(perm, a.rows)).toBe(true);
      expect(stats.supervariablesMerged).toBeGreaterThan(0);
      expect(stats.massEliminated).toBeGreaterThan(0);
      const amdFill = choleskyFillCount(g, perm);
      const rcmFill = choleskyFillCount(g, reverseCuthillMcKee(g));
      expect(amdFill).toBeLessThan(0.6 * rcmFill);
      expect(amdFill).toBeLessThan(0.35 * choleskyFillCount(g, identity(a.rows)));
    }
  });

  it("garbage collection and workspace growth do not change the ordering", () => {
    for (const a of [poisson3d(12), poisson2d(40)]) {
      const g = symmetricGraph(a);
      const roomy = amdOrderGraph(g);
      // Storage for the graph alone: every large element forces a collection, and some a growth.
      const tight = amdOrderGraph(g, { workspaceEntries: g.ptr[g.n]! + 1 });
      expect(tight.stats.compactions).toBeGreaterThan(roomy.stats.compactions);
      expect(tight.stats.workspaceGrowths).toBeGreaterThan(0);
      expect(roomy.stats.workspaceGrowths).toBe(0);
      expect(tight.perm).toEqual(roomy.perm);
    }
  });

  it("rejects a non-square matrix and a one-sided or out-of-range graph with a specific error", () => {
    const rect = {
      rows: 2,
      cols: 3,
      rowPtr: Int32Array.of(0, 1, 2),
      colIdx: Int32Array.of(0, 2),
      values: Float64Array.of(1, 1),
    };
    expect(() => amdOrder(rect)).toThrowError(expect.objectContaining({ code: "not_square" }) as Error);
    const oneSided: Graph = { n: 3, ptr: Int32Array.of(0, 1, 1, 1), idx: Int32Array.of(2) };
    expect(() => amdOrderGraph(oneSided)).toThrowError(/no reverse edge/);
    // Same in- and out-degrees everywhere, but a directed cycle: not symmetric either.
    const cycle: Graph = { n: 3, ptr: Int32Array.of(0, 1, 2, 3), idx: Int32Array.of(1, 2, 0) };
    expect(() => amdOrderGraph(cycle)).toThrowError(SolverError);
    const outside: Graph = { n: 2, ptr: Int32Array.of(0, 1, 2), idx: Int32Array.of(5, 0) };
    expect(() => amdOrderGraph(outside)).toThrowError(/outside \[0, 2\)/);
  });
});
