import type { CsrMatrix } from "../sparse/csr.ts";
import { nnzOf } from "../sparse/csr.ts";
import { isSymmetric } from "../sparse/structure.ts";

/** What the hybrid looks at before choosing a method. O(nnz). */
export interface MatrixProfile {
  n: number;
  nnz: number;
  /** Same pattern as Aᵀ and |a_ij − a_ji| ≤ SYMMETRY_TOLERANCE · max|a| everywhere. */
  symmetric: boolean;
  /** Every a_ii > 0 (necessary for SPD; with symmetry it is what "SPD-looking" means here). */
  positiveDiagonal: boolean;
  zeroDiagonals: number;
  /** |a_ii| ≥ Σ_{j≠i} |a_ij| in every row (weak diagonal dominance). */
  diagonallyDominant: boolean;
  /** Fraction of rows that are strictly diagonally dominant. */
  dominantRowFraction: number;
}

/** Relative to max|a|: rounding in a file's values must not hide an SPD matrix from CG. */
const SYMMETRY_TOLERANCE = 1e-12;

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
    symmetric: isSymmetric(a, SYMMETRY_TOLERANCE),
    positiveDiagonal,
    zeroDiagonals,
    diagonallyDominant,
    dominantRowFraction: n === 0 ? 1 : strictRows / n,
  };
}
