import type { CsrMatrix } from "../../sparse/csr.ts";
import { diagonal } from "../../sparse/structure.ts";
import type { Preconditioner } from "./precond.ts";

/** Lower factor L of IC(0) in CSR, diagonal stored last in each row. */
interface LowerFactor {
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
}

/** The lower-triangle pattern of A (j ≤ i) with A's values plus `shift`·a_ii on the diagonal. */
function lowerPattern(a: CsrMatrix, shift: number): LowerFactor | null {
  const n = a.rows;
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let c = 0;
    let hasDiag = false;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      const j = a.colIdx[k]!;
      if (j < i) c++;
      else if (j === i) hasDiag = true;
    }
    if (!hasDiag) return null;
    rowPtr[i + 1] = rowPtr[i]! + c + 1;
  }
  const colIdx = new Int32Array(rowPtr[n]!);
  const values = new Float64Array(rowPtr[n]!);
  for (let i = 0; i < n; i++) {
    let w = rowPtr[i]!;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      const j = a.colIdx[k]!;
      if (j < i) {
        colIdx[w] = j;
        values[w++] = a.values[k]!;
      } else if (j === i) {
        colIdx[rowPtr[i + 1]! - 1] = i;
        values[rowPtr[i + 1]! - 1] = a.values[k]! * (1 + shift);
      }
    }
  }
  return { rowPtr, colIdx, values };
}

/**
 * Row-oriented IC(0): L has the pattern of tril(A), l_ik = (a_ik − Σ_{j<k} l_ij l_kj) / l_kk and
 * l_ii = sqrt(a_ii − Σ_{j<i} l_ij²). Returns null on a non-positive (or non-finite) pivot.
 */
function factor(l: LowerFactor, n: number): boolean {
  const { rowPtr, colIdx, values } = l;
  const where = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const start = rowPtr[i]!;
    const diagPos = rowPtr[i + 1]! - 1;
    for (let p = start; p < diagPos; p++) where[colIdx[p]!] = p;
    for (let p = start; p < diagPos; p++) {
      const k = colIdx[p]!;
      let s = values[p]!;
      const kDiag = rowPtr[k + 1]! - 1;
      for (let q = rowPtr[k]!; q < kDiag; q++) {
        const wp = where[colIdx[q]!]!;
        if (wp >= 0 && wp < p) s -= values[wp]! * values[q]!;
      }
      values[p] = s / values[kDiag]!;
    }
    let d = values[diagPos]!;
    for (let p = start; p < diagPos; p++) d -= values[p]! * values[p]!;
    if (!(d > 0) || !Number.isFinite(d)) return false;
    values[diagPos] = Math.sqrt(d);
    for (let p = start; p < diagPos; p++) where[colIdx[p]!] = -1;
  }
  return true;
}

/**
 * Incomplete Cholesky IC(0) for a symmetric A (only the lower triangle is read). When a pivot is not
 * positive (A not SPD enough for IC(0)) retry on A + α·diag(A) with α = 1e-3, 3e-3, 1e-2, … up to 10; the
 * shift used is part of the name (it shows in methodPath). Returns null when even that fails.
 */
export function ic0Preconditioner(a: CsrMatrix): Preconditioner | null {
  const n = a.rows;
  const d = diagonal(a);
  for (let i = 0; i < n; i++) if (!(d[i]! > 0)) return null;
  // Steps of about √10: the smallest shift that works keeps the factor closest to A.
  const shifts = [0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10];
  for (const shift of shifts) {
    const l = lowerPattern(a, shift);
    if (l === null) return null;
    if (!factor(l, n)) continue;
    const { rowPtr, colIdx, values } = l;
    const name = shift === 0 ? "ic0" : `ic0(shift=${shift})`;
    const pre: Preconditioner = {
      name,
      flopsPerApply: 4 * values.length,
      bytes: 12 * values.length + 4 * (n + 1),
      apply(r, z) {
        // Forward: L y = r (y kept in z).
        for (let i = 0; i < n; i++) {
          const diagPos = rowPtr[i + 1]! - 1;
          let s = r[i]!;
          for (let p = rowPtr[i]!; p < diagPos; p++) s -= values[p]! * z[colIdx[p]!]!;
          z[i] = s / values[diagPos]!;
        }
        // Backward: Lᵀ z = y, walking L's rows as Lᵀ's columns.
        for (let i = n - 1; i >= 0; i--) {
          const diagPos = rowPtr[i + 1]! - 1;
          const zi = z[i]! / values[diagPos]!;
          z[i] = zi;
          for (let p = rowPtr[i]!; p < diagPos; p++) z[colIdx[p]!] = z[colIdx[p]!]! - values[p]! * zi;
        }
      },
    };
    return shift === 0
      ? pre
      : { ...pre, note: `IC(0) broke down (non-positive pivot); retried with diagonal shift ${shift}` };
  }
  return null;
}
