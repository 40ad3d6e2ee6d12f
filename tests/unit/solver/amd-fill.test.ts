import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { choleskyFillCount } from "../../../src/core/solver/ordering/amd/fill.ts";
import type { Graph } from "../../../src/core/sparse/structure.ts";

/** nnz(L) by eliminating a dense boolean copy of the pattern in order (the definition of fill). */
function bruteForceFill(g: Graph, perm: Int32Array): number {
  const n = g.n;
  const inv = new Int32Array(n);
  for (let k = 0; k < n; k++) inv[perm[k]!] = k;
  const m = Array.from({ length: n }, () => new Uint8Array(n));
  for (let i = 0; i < n; i++) {
    m[i]![i] = 1;
    for (let p = g.ptr[i]!; p < g.ptr[i + 1]!; p++) m[inv[i]!]![inv[g.idx[p]!]!] = 1;
  }
  let count = 0;
  for (let k = 0; k < n; k++) {
    const below: number[] = [];
    for (let i = k; i < n; i++) if (m[i]![k]) below.push(i);
    count += below.length;
    for (const i of below) for (const j of below) m[i]![j] = 1; // the clique elimination of k creates
  }
  return count;
}

const graphAndPerm = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 })), { maxLength: 3 * n }),
    keys: fc.array(fc.nat(), { minLength: n, maxLength: n }),
  }),
);

function build(n: number, edges: [number, number][]): Graph {
  const sets = Array.from({ length: n }, () => new Set<number>());
  for (const [i, j] of edges) {
    if (i === j) continue;
    sets[i]!.add(j);
    sets[j]!.add(i);
  }
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) ptr[i + 1] = ptr[i]! + sets[i]!.size;
  const idx = new Int32Array(ptr[n]!);
  for (let i = 0; i < n; i++) idx.set([...sets[i]!], ptr[i]!);
  return { n, ptr, idx };
}

describe("symbolic Cholesky fill count", () => {
  it("equals brute-force elimination for random patterns and orders", () => {
    fc.assert(
      fc.property(graphAndPerm, ({ n, edges, keys }) => {
        const g = build(n, edges);
        const perm = Int32Array.from([...Array(n).keys()].sort((p, q) => keys[p]! - keys[q]! || p - q));
        expect(choleskyFillCount(g, perm)).toBe(bruteForceFill(g, perm));
      }),
      { numRuns: 300 },
    );
  });

  it("gives up with Infinity once the count passes the limit", () => {
    const n = 20;
    const g = build(
      n,
      Array.from({ length: n - 1 }, (_, i) => [0, i + 1] as [number, number]),
    );
    const natural = Int32Array.from({ length: n }, (_, i) => i);
    expect(choleskyFillCount(g, natural)).toBe((n * (n + 1)) / 2);
    expect(choleskyFillCount(g, natural, 100)).toBe(Infinity);
    expect(choleskyFillCount(g, natural, 1000)).toBe((n * (n + 1)) / 2);
  });
});
