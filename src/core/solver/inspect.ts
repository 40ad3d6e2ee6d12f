import type { CsrMatrix } from "../sparse/csr.ts";
import { nnzOf } from "../sparse/csr.ts";
import { transpose } from "../sparse/structure.ts";

/** What the hybrid looks at before choosing a method. O(nnz). */
export interface MatrixProfile {
  n: number;
  nnz: number;
  /** Same pattern as Aᵀ and |a_ij − a_ji| ≤ 1e-12 · max|a| everywhere. */
  symmetric: boolean;
  /** Every a_ii > 0 (necessary for SPD; with symmetry it is what "SPD-looking" means here). */
  positiveDiagonal: boolean;
  zeroDiagonals: number;
  /** |a_ii| ≥ Σ_{j≠i} |a_ij| in every row (weak diagonal dominance). */
  diagonallyDominant: boolean;
  /** Fraction of rows that are strictly diagonally dominant. */
  dominantRowFraction: number;
}

function numericallySymmetric(a: CsrMatrix): boolean {
  const t = transpose(a);
  let scale = 0;
  for (let k = 0; k < a.values.length; k++) scale = Math.max(scale, Math.abs(a.values[k]!));
  const tol = 1e-12 * scale;
  for (let i = 0; i <= a.rows; i++) if (a.rowPtr[i] !== t.rowPtr[i]) return false;
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      if (a.colIdx[k] !== t.colIdx[k]) return false;
      if (Math.abs(a.values[k]! - t.values[k]!) > tol) return false;
    }
  }
  return true;
}

export function profileMatrix(a: CsrMatrix): MatrixProfile {
  const n = a.rows;
  let positiveDiagonal = true;
  let zeroDiagonals = 0;
  let diagonallyDominant = true;
  let strictRows = 0;
  for (let i = 0; i < n; i++) {
    let d = 0;
    let off = 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      if (a.colIdx[k] === i) d = a.values[k]!;
      else off += Math.abs(a.values[k]!);
    }
    if (!(d > 0)) positiveDiagonal = false;
    if (d === 0) zeroDiagonals++;
    if (Math.abs(d) < off) diagonallyDominant = false;
    if (Math.abs(d) > off) strictRows++;
  }
  return {
    n,
    nnz: nnzOf(a),
    symmetric: a.rows === a.cols && numericallySymmetric(a),
    positiveDiagonal,
    zeroDiagonals,
    diagonallyDominant,
    dominantRowFraction: n === 0 ? 1 : strictRows / n,
  };
}
