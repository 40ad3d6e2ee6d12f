import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { parseMatrixMarket } from "../../../src/core/sparse/matrix-market.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";

/** The shared SuiteSparse folder: ../shared/matrices from the repo root (read-only, never copied). */
export const MATRIX_DIR = new URL("../../../../shared/matrices/", import.meta.url);

export const SUITE = ["LFAT5", "494_bus", "bcsstk13", "dwt_878", "cage5", "bfwa62", "west0479"] as const;

export function loadMatrix(name: string): CsrMatrix {
  return parseMatrixMarket(readFileSync(fileURLToPath(new URL(`${name}.mtx`, MATRIX_DIR)), "utf8"));
}

/** Dense row-major n×n → CSR, dropping exact zeros off the diagonal (the diagonal is always stored). */
export function denseToCsr(n: number, dense: Float64Array): CsrMatrix {
  const rowPtr = new Int32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = dense[i * n + j]!;
      if (v !== 0 || i === j) {
        cols.push(j);
        vals.push(v);
      }
    }
    rowPtr[i + 1] = cols.length;
  }
  return { rows: n, cols: n, rowPtr, colIdx: Int32Array.from(cols), values: Float64Array.from(vals) };
}

export function csrToDense(a: CsrMatrix): Float64Array {
  const d = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) d[i * a.cols + a.colIdx[k]!] = a.values[k]!;
  }
  return d;
}

/** A·v with a naive loop (independent of the kernels under test). */
export function multiply(a: CsrMatrix, v: Float64Array): Float64Array {
  const y = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) s += a.values[k]! * v[a.colIdx[k]!]!;
    y[i] = s;
  }
  return y;
}

export function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}

/** A random sparse n×n pattern with values in [-1, 1] (dense storage), ~`density` of entries set. */
const sparseDense = (n: number, density: number) =>
  // Values from integers: fast-check's doubles favour extremes (subnormals, ±0) that make matrices trivial.
  fc.array(
    fc.tuple(
      fc.nat({ max: n * n - 1 }),
      fc.integer({ min: -1000, max: 1000 }).map((v) => v / 1000),
    ),
    {
      minLength: Math.max(1, Math.round(0.5 * density * n * n)),
      maxLength: Math.max(2, Math.round(density * n * n)),
    },
  );

/** SPD, usually not diagonally dominant: A = BᵀB + 0.05·I for B = sparse random + δI, δ ∈ [0, 0.5]. */
export const spdArb = fc
  .integer({ min: 2, max: 60 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      entries: sparseDense(n, 0.06),
      seedDiag: fc.integer({ min: 0, max: 500 }).map((v) => v / 1000),
    }),
  )
  .map(({ n, entries, seedDiag }) => {
    const bm = new Float64Array(n * n);
    for (const [p, v] of entries) bm[p] = v;
    for (let i = 0; i < n; i++) bm[i * n + i] = bm[i * n + i]! + seedDiag;
    const d = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += bm[k * n + i]! * bm[k * n + j]!;
        d[i * n + j] = s;
      }
      d[i * n + i] = d[i * n + i]! + 0.05;
    }
    return denseToCsr(n, d);
  });

/** Strictly diagonally dominant, nonsymmetric: |a_ii| = (1.2…3)·Σ_j|a_ij|, random sign. */
export const diagDominantArb = fc
  .integer({ min: 2, max: 60 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      entries: sparseDense(n, 0.1),
      factor: fc.integer({ min: 120, max: 300 }).map((v) => v / 100),
      negative: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
  )
  .map(({ n, entries, factor, negative }) => {
    const d = new Float64Array(n * n);
    for (const [p, v] of entries) if (Math.floor(p / n) !== p % n) d[p] = v;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.abs(d[i * n + j]!);
      d[i * n + i] = (negative[i] ? -1 : 1) * (factor * s + 0.1);
    }
    return denseToCsr(n, d);
  });

/**
 * Nonsymmetric and NOT diagonally dominant, but well conditioned: A = S (P + N) with P the identity or a
 * random permutation (then most diagonal entries are 0: Jacobi, Gauss–Seidel and ILU(0) are helpless),
 * ‖N‖_F ≤ 0.9 (so σ_min(P + N) ≥ 0.1) and S a positive diagonal scaling in [0.5, 2]: cond(A) ≤ 19·4.
 */
export const nonsymmetricArb = fc
  .integer({ min: 2, max: 60 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      entries: sparseDense(n, 0.15),
      scale: fc.array(
        fc.integer({ min: 50, max: 200 }).map((v) => v / 100),
        { minLength: n, maxLength: n },
      ),
      keys: fc.option(fc.array(fc.nat(), { minLength: n, maxLength: n })),
    }),
  )
  .map(({ n, entries, scale, keys }) => {
    const d = new Float64Array(n * n);
    for (const [p, v] of entries) d[p] = v;
    let f = 0;
    for (let p = 0; p < n * n; p++) f += d[p]! * d[p]!;
    const shrink = f > 0 ? 0.9 / Math.sqrt(f) : 0;
    for (let p = 0; p < n * n; p++) d[p] = d[p]! * shrink;
    const perm = [...Array(n).keys()];
    if (keys !== null) perm.sort((p, q) => keys[p]! - keys[q]! || p - q);
    for (let i = 0; i < n; i++) d[i * n + perm[i]!] = d[i * n + perm[i]!]! + 1;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = d[i * n + j]! * scale[i]!;
    return denseToCsr(n, d);
  });

/** A right-hand side with entries in [-1, 1], not all zero. */
export const rhsArb = (n: number) =>
  fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n, maxLength: n }).map((v) => {
    const b = Float64Array.from(v, (t) => t / 1000);
    if (b.every((x) => x === 0)) b[0] = 1;
    return b;
  });

export { seededRandom } from "../../../src/node/seeded-random.ts";
