import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { amdOrderGraph } from "../../../src/core/solver/ordering/amd/amd.ts";
import type { Graph } from "../../../src/core/sparse/structure.ts";
import { symmetricGraph } from "../../../src/core/sparse/structure.ts";
import { poisson2d, poisson3d } from "../../../src/core/sparse/generators.ts";
import { loadMatrix, SUITE } from "./helpers.ts";

/**
 * The port follows CSparse's cs_amd step by step (same tie-breaking: degree lists are LIFO, hash buckets
 * are scanned in the same order), so on the same adjacency lists it must return the very same permutation.
 * These were printed by cs_amd(1, A) of Debian's libcxsparse (SuiteSparse 5.12) for symmetricGraph(A).
 */
const CS_AMD_REFERENCE: Record<string, number[]> = {
  LFAT5: [13, 11, 12, 8, 7, 0, 4, 3, 9, 1, 5, 10, 2, 6],
  cage5: [
    1, 7, 0, 6, 3, 8, 2, 15, 34, 11, 14, 10, 5, 9, 4, 16, 32, 12, 33, 17, 13, 21, 29, 19, 28, 22, 30, 23, 31,
    18, 20, 35, 25, 26, 27, 36, 24,
  ],
  bfwa62: [
    17, 16, 0, 24, 21, 23, 19, 36, 26, 3, 34, 30, 42, 60, 59, 13, 55, 57, 54, 50, 44, 11, 46, 48, 38, 32, 7,
    14, 15, 20, 27, 22, 28, 1, 18, 25, 2, 29, 33, 39, 4, 35, 40, 5, 31, 41, 51, 52, 61, 58, 56, 53, 12, 49, 8,
    9, 10, 6, 37, 45, 47, 43,
  ],
};
const POISSON2D_7_REFERENCE = [
  3, 0, 7, 1, 8, 2, 16, 9, 18, 6, 13, 5, 12, 27, 20, 19, 11, 4, 10, 24, 17, 21, 42, 43, 35, 36, 28, 22, 30,
  29, 32, 48, 47, 41, 40, 45, 46, 38, 39, 33, 14, 15, 23, 34, 26, 31, 44, 37, 25,
];

/** A tiny driver: reads "n nnz / ptr / idx" (a symmetric pattern in CSC) and prints cs_amd(1, A). */
const DRIVER = `#include <stdio.h>
#include <suitesparse/cs.h>
int main(void) {
  long n, nz, v;
  if (scanf("%ld %ld", &n, &nz) != 2) return 1;
  cs *A = cs_spalloc(n, n, nz > 0 ? nz : 1, 1, 0);
  for (long j = 0; j <= n; j++) { if (scanf("%ld", &v) != 1) return 1; A->p[j] = v; }
  for (long p = 0; p < nz; p++) { if (scanf("%ld", &v) != 1) return 1; A->i[p] = v; A->x[p] = 1; }
  CS_INT *P = cs_amd(1, A);
  for (long k = 0; k < n; k++) printf("%ld\\n", (long)P[k]);
  return 0;
}
`;

/** Compiles the driver if gcc and SuiteSparse's CXSparse (libsuitesparse-dev) are installed; else null. */
function buildCsAmd(): string | null {
  if (!existsSync("/usr/include/suitesparse/cs.h")) return null;
  const dir = mkdtempSync(join(tmpdir(), "cs-amd-"));
  writeFileSync(join(dir, "driver.c"), DRIVER);
  const exe = join(dir, "cs_amd");
  const r = spawnSync("gcc", ["-O2", "-o", exe, join(dir, "driver.c"), "-lcxsparse"], { encoding: "utf8" });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return r.status === 0 ? exe : null;
}

function runCsAmd(exe: string, g: Graph): number[] {
  const nnz = g.ptr[g.n]!;
  const input = `${g.n} ${nnz}\n${[...g.ptr].join(" ")}\n${[...g.idx.subarray(0, nnz)].join(" ")}\n`;
  const out = execFileSync(exe, { input, maxBuffer: 1 << 26 })
    .toString()
    .trim();
  return out.length === 0 ? [] : out.split("\n").map(Number);
}

const csAmd = buildCsAmd();

describe("AMD agrees with CSparse's cs_amd", () => {
  it.each(Object.keys(CS_AMD_REFERENCE))("%s: the recorded cs_amd permutation", (name) => {
    const g = symmetricGraph(loadMatrix(name));
    expect([...amdOrderGraph(g).perm]).toEqual(CS_AMD_REFERENCE[name]);
  });

  it("poisson2d(7): the recorded cs_amd permutation", () => {
    expect([...amdOrderGraph(symmetricGraph(poisson2d(7))).perm]).toEqual(POISSON2D_7_REFERENCE);
  });

  // Live cross-check where libsuitesparse-dev is installed (Debian: apt-get install libsuitesparse-dev).
  it.skipIf(csAmd === null)("every shared matrix and grid: same permutation as a live cs_amd", () => {
    const graphs = [...SUITE.map((name) => loadMatrix(name)), poisson2d(60), poisson3d(16)].map(
      symmetricGraph,
    );
    for (const g of graphs) expect([...amdOrderGraph(g).perm]).toEqual(runCsAmd(csAmd!, g));
  });

  it.skipIf(csAmd === null)("random patterns with dense rows: same permutation as a live cs_amd", () => {
    const arb = fc.integer({ min: 1, max: 200 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        edges: fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 })), { maxLength: 5 * n }),
        hubs: fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ n, edges, hubs }) => {
        const sets = Array.from({ length: n }, () => new Set<number>());
        const link = (i: number, j: number) => {
          if (i === j) return;
          sets[i]!.add(j);
          sets[j]!.add(i);
        };
        for (const [i, j] of edges) link(i, j);
        // Hubs joined to ~90% of the nodes: above the dense threshold once n > 20 or so.
        for (const h of hubs) for (let j = 0; j < n; j++) if (j % 10 !== 3) link(h, j);
        const ptr = new Int32Array(n + 1);
        for (let i = 0; i < n; i++) ptr[i + 1] = ptr[i]! + sets[i]!.size;
        const idx = new Int32Array(ptr[n]!);
        for (let i = 0; i < n; i++) idx.set([...sets[i]!], ptr[i]!);
        const g = { n, ptr, idx };
        expect([...amdOrderGraph(g).perm]).toEqual(runCsAmd(csAmd!, g));
      }),
      { numRuns: 150 },
    );
  });
});
