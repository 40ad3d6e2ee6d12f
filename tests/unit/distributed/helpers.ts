import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
export { loadMatrix } from "../solver/helpers.ts";

/** b = A·1, so the exact solution is known to be all ones. */
export function rhsOfOnes(a: CsrMatrix): Float64Array {
  const b = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let p = a.rowPtr[i]!; p < a.rowPtr[i + 1]!; p++) b[i] = b[i]! + a.values[p]!;
  return b;
}

/** ‖x − y‖ / ‖y‖. */
export function relDiff(x: Float64Array, y: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (x[i]! - y[i]!) ** 2;
    den += y[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * Upwind convection–diffusion on a k×k grid with convection `c` in x: nonsymmetric, weakly diagonally
 * dominant (|a_ii| = Σ|a_ij| in the interior, strictly at the boundary), an M-matrix.
 */
export function convectionDiffusion(k: number, c: number): CsrMatrix {
  const n = k * k;
  const rowPtr = new Int32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      const r = y * k + x;
      const push = (col: number, v: number): void => {
        cols.push(col);
        vals.push(v);
      };
      if (y > 0) push(r - k, -1);
      if (x > 0) push(r - 1, -1 - c);
      push(r, 4 + c);
      if (x < k - 1) push(r + 1, -1);
      if (y < k - 1) push(r + k, -1);
      rowPtr[r + 1] = cols.length;
    }
  }
  return { rows: n, cols: n, rowPtr, colIdx: Int32Array.from(cols), values: Float64Array.from(vals) };
}
