import type { CsrMatrix } from "../../sparse/csr.ts";
import { amdOrderGraph } from "./amd/amd.ts";
import type { AmdStats } from "./amd/amd.ts";
import { choleskyFillCount } from "./amd/fill.ts";
import { diagonalPositions, symmetricGraph } from "../../sparse/structure.ts";
import type { Graph } from "../../sparse/structure.ts";
import { reverseCuthillMcKee } from "./rcm.ts";
import type { LuFactors } from "../methods/sparse-lu.ts";
import { permuteRows, zeroFreeDiagonal } from "./transversal.ts";

/** Pre-orderings of the direct LU: amd (default; minimum fill), rcm (narrow envelope), natural (none). */
export type DirectOrdering = "amd" | "rcm" | "natural";
export const DIRECT_ORDERINGS: readonly DirectOrdering[] = ["amd", "rcm", "natural"];
export const DEFAULT_DIRECT_ORDERING: DirectOrdering = "amd";

/**
 * Below this fraction of structurally nonzero diagonal entries AMD orders P A + (P A)ᵀ, with P a row
 * permutation to a zero-free diagonal, instead of A + Aᵀ (KLU always orders after such a maximum
 * transversal). The LU prefers diagonal pivots, which is what makes a symmetric ordering
 * predict its fill; with mostly zero diagonals (west0479: 470 of 479) that preference is void unless the
 * rows are first matched to columns: there the matching halves nnz(L+U). With a mostly full diagonal the
 * matching would trade good diagonal entries for merely larger ones (bcsstk13's fill grows 1.6×), so not.
 */
const MIN_DIAGONAL_FRACTION = 0.9;

export interface LuPreordering {
  ordering: DirectOrdering;
  /** The matrix to factor: A, or P A when rowOf is set. */
  matrix: CsrMatrix;
  /** Row pre-permutation: row rowOf[j] of A is row j of `matrix`; null if none. */
  rowOf: Int32Array | null;
  /** Column order for sparseLu (q[k] = column eliminated at step k), symmetric with the row preference. */
  q: Int32Array;
  /**
   * luNnz of an LU that pivots on the diagonal in this order: 2·nnz(chol), as L stores its unit diagonal.
   * Infinity once past the fill limit. Off-diagonal pivots change the real count, either way.
   */
  estimatedFill: number;
  /** For reports, e.g. "AMD on PA+(PA)ᵀ, rows matched to a zero-free diagonal". */
  description: string;
  amdStats?: AmdStats;
}

/**
 * Chooses the row and column pre-ordering of the direct LU. Threshold partial pivoting still picks the
 * rows: the pre-ordering only decides which row it tries first (the diagonal one) and the column order.
 */
export function preorderForLu(a: CsrMatrix, ordering: DirectOrdering, fillLimit: number): LuPreordering {
  const { g, ...order } = ordering === "amd" ? amdPreorder(a) : plainPreorder(a, ordering);
  // Stop counting past the limit: half of it bounds nnz(chol), and the count costs O(that).
  const chol = choleskyFillCount(g, order.q, fillLimit / 2);
  return { ...order, estimatedFill: 2 * chol };
}

type Preorder = Omit<LuPreordering, "estimatedFill"> & { g: Graph };

/** AMD, after matching rows to a zero-free diagonal when A's own diagonal is mostly zero. */
function amdPreorder(a: CsrMatrix): Preorder {
  let matrix = a;
  let rowOf: Int32Array | null = null;
  if (structuralDiagonalFraction(a) < MIN_DIAGONAL_FRACTION) {
    rowOf = zeroFreeDiagonal(a); // null if structurally singular: then the LU will say singular
    if (rowOf !== null) matrix = permuteRows(a, rowOf);
  }
  const g = symmetricGraph(matrix);
  const { perm, stats } = amdOrderGraph(g);
  const description =
    rowOf === null ? "AMD on A+Aᵀ" : "AMD on PA+(PA)ᵀ, rows matched to a zero-free diagonal";
  return { ordering: "amd", matrix, rowOf, q: perm, description, amdStats: stats, g };
}

/** RCM (the previous default, kept as an option) or no ordering; rows are never pre-permuted. */
function plainPreorder(a: CsrMatrix, ordering: "rcm" | "natural"): Preorder {
  const g = symmetricGraph(a);
  const q = ordering === "rcm" ? reverseCuthillMcKee(g) : Int32Array.from({ length: a.rows }, (_, i) => i);
  const description = ordering === "rcm" ? "RCM on A+Aᵀ" : "natural order";
  return { ordering, matrix: a, rowOf: null, q, description, g };
}

/** Factors of P A (rows permuted by rowOf) as factors of A: only the row-to-pivot map changes. */
export function factorsOfUnpermuted(f: LuFactors, rowOf: Int32Array | null): LuFactors {
  if (rowOf === null) return f;
  const pinv = new Int32Array(f.n);
  for (let j = 0; j < f.n; j++) pinv[rowOf[j]!] = f.pinv[j]!;
  return { ...f, pinv };
}

/** Fraction of rows whose diagonal entry is stored and nonzero (n = 0 counts as full). */
function structuralDiagonalFraction(a: CsrMatrix): number {
  if (a.rows === 0) return 1;
  const pos = diagonalPositions(a);
  let nonzero = 0;
  for (let i = 0; i < a.rows; i++) if (pos[i]! >= 0 && a.values[pos[i]!] !== 0) nonzero++;
  return nonzero / a.rows;
}
