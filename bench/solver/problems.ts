import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { nnzOf } from "../../src/core/sparse/csr.ts";
import { poisson2d, poisson3d } from "../../src/core/sparse/generators.ts";
import { parseMatrixMarket } from "../../src/core/sparse/matrix-market.ts";
import { multiply, ones } from "../../src/core/sparse/ops.ts";
import { isSymmetric } from "../../src/core/sparse/structure.ts";

export interface Problem {
  name: string;
  a: CsrMatrix;
  /** b = A·1, so the exact solution is the ones vector. */
  b: Float64Array;
  n: number;
  nnz: number;
  /** Numerically symmetric (CG's requirement); the nonsymmetric matrices are run anyway and reported. */
  symmetric: boolean;
}

export interface ProblemSet {
  problems: Problem[];
  notMeasured: { name: string; reason: string }[];
}

function problem(name: string, a: CsrMatrix): Problem {
  return { name, a, b: multiply(a, ones(a.cols)), n: a.rows, nnz: nnzOf(a), symmetric: isSymmetric(a) };
}

/**
 * The benchmark's problems: two Poisson grids with n = 10⁶ (--quick: n ≈ 10⁴) and every SuiteSparse
 * matrix found in `matricesDir` (read in place, never copied). `only` filters by name when given.
 */
export async function loadProblems(
  quick: boolean,
  matricesDir: string,
  only: Set<string> | null,
): Promise<ProblemSet> {
  const notMeasured: ProblemSet["notMeasured"] = [];
  const generated: [string, () => CsrMatrix][] = quick
    ? [
        ["poisson2d-100", () => poisson2d(100)],
        ["poisson3d-22", () => poisson3d(22)],
      ]
    : [
        ["poisson2d-1000", () => poisson2d(1000)],
        ["poisson3d-100", () => poisson3d(100)],
      ];
  const problems: Problem[] = [];
  for (const [name, make] of generated)
    if (only === null || only.has(name)) problems.push(problem(name, make()));

  let files: string[] = [];
  try {
    files = (await readdir(matricesDir)).filter((f) => f.endsWith(".mtx")).sort();
  } catch (e) {
    notMeasured.push({ name: "suitesparse", reason: `cannot read ${matricesDir}: ${(e as Error).message}` });
  }
  for (const f of files) {
    const name = f.replace(/\.mtx$/, "");
    if (only !== null && !only.has(name)) continue;
    try {
      problems.push(problem(name, parseMatrixMarket(await readFile(join(matricesDir, f), "utf8"))));
    } catch (e) {
      notMeasured.push({ name, reason: `cannot parse ${f}: ${(e as Error).message}` });
    }
  }
  return { problems, notMeasured };
}
