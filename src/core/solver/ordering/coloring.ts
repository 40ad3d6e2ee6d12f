import type { CsrMatrix } from "../../sparse/csr.ts";
import { symmetricGraph } from "../../sparse/structure.ts";

/**
 * A proper coloring of the graph of A + Aᵀ: rows of one color share no off-diagonal entry, so a
 * Gauss–Seidel sweep can update all rows of a color at once (one GPU dispatch or one parallel loop per
 * color) and stays a true Gauss–Seidel sweep in the permuted order.
 */
export interface Coloring {
  readonly numColors: number;
  /** colors[i] = color of row i. */
  readonly colors: Int32Array;
  /** Rows grouped by color: rowsByColor[colorPtr[c] .. colorPtr[c+1]) are the rows of color c, ascending. */
  readonly colorPtr: Int32Array;
  readonly rowsByColor: Int32Array;
}

/**
 * Greedy first-fit coloring in natural row order: each row takes the smallest color none of its
 * already-colored neighbours has. Uses at most (max degree + 1) colors; O(nnz).
 */
export function greedyColoring(a: CsrMatrix): Coloring {
  const g = symmetricGraph(a);
  const n = g.n;
  const colors = new Int32Array(n).fill(-1);
  // forbidden[c] === i marks color c as taken by a neighbour of row i.
  const forbidden = new Int32Array(n + 1).fill(-1);
  let numColors = 0;
  for (let i = 0; i < n; i++) {
    for (let k = g.ptr[i]!; k < g.ptr[i + 1]!; k++) {
      const c = colors[g.idx[k]!]!;
      if (c >= 0) forbidden[c] = i;
    }
    let c = 0;
    while (forbidden[c] === i) c++;
    colors[i] = c;
    if (c + 1 > numColors) numColors = c + 1;
  }
  const colorPtr = new Int32Array(numColors + 1);
  for (let i = 0; i < n; i++) colorPtr[colors[i]! + 1]!++;
  for (let c = 0; c < numColors; c++) colorPtr[c + 1] = colorPtr[c + 1]! + colorPtr[c]!;
  const next = colorPtr.slice(0, numColors);
  const rowsByColor = new Int32Array(n);
  for (let i = 0; i < n; i++) rowsByColor[next[colors[i]!]!++] = i;
  return { numColors, colors, colorPtr, rowsByColor };
}

/** True when no stored off-diagonal entry a_ij (i ≠ j) joins two rows of the same color. */
export function isProperColoring(a: CsrMatrix, coloring: Coloring): boolean {
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      const j = a.colIdx[k]!;
      if (j !== i && coloring.colors[i] === coloring.colors[j]) return false;
    }
  }
  return true;
}
