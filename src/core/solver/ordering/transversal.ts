import type { CsrMatrix } from "../../sparse/csr.ts";
import { transpose } from "../../sparse/structure.ts";

/**
 * Row permutation that puts nonzeros on the diagonal (a maximum transversal, as MC21 finds): rowOf[j] is the
 * row of A moved to position j. First a greedy pass matches columns to their largest free entry (so the
 * new diagonal also tends to be large), then depth-first augmenting paths (Duff's MC21) match the rest.
 * Returns null when A is structurally singular (no zero-free diagonal exists).
 *
 * Used before ILU(0): an ILU of a matrix with zero diagonals (west0479 has 470 of 479) is meaningless,
 * while ILU(0) of P A often works.
 */
export function zeroFreeDiagonal(a: CsrMatrix): Int32Array | null {
  const n = a.rows;
  const cols = transpose(a); // row j of Aᵀ: the rows with an entry in column j
  const rowOf = new Int32Array(n).fill(-1); // column → matched row
  const colOf = new Int32Array(n).fill(-1); // row → matched column
  for (let j = 0; j < n; j++) {
    let best = -1;
    let bestAbs = 0;
    for (let p = cols.rowPtr[j]!; p < cols.rowPtr[j + 1]!; p++) {
      const i = cols.colIdx[p]!;
      const v = Math.abs(cols.values[p]!);
      if (colOf[i] === -1 && v > bestAbs) {
        best = i;
        bestAbs = v;
      }
    }
    if (best >= 0) {
      rowOf[j] = best;
      colOf[best] = j;
    }
  }
  // Augment: DFS from each unmatched column over (column → row → that row's matched column).
  const visited = new Int32Array(n).fill(-1);
  const colStack = new Int32Array(n);
  const posStack = new Int32Array(n);
  for (let j0 = 0; j0 < n; j0++) {
    if (rowOf[j0] !== -1) continue;
    let head = 0;
    colStack[0] = j0;
    posStack[0] = cols.rowPtr[j0]!;
    let found = -1;
    while (head >= 0 && found < 0) {
      const j = colStack[head]!;
      let advanced = false;
      for (let p = posStack[head]!; p < cols.rowPtr[j + 1]!; p++) {
        const i = cols.colIdx[p]!;
        if (cols.values[p] === 0 || visited[i] === j0) continue;
        visited[i] = j0;
        posStack[head] = p + 1;
        const next = colOf[i]!;
        if (next === -1) {
          found = i;
        } else {
          colStack[++head] = next;
          posStack[head] = cols.rowPtr[next]!;
        }
        advanced = true;
        break;
      }
      if (!advanced) head--;
    }
    if (found < 0) return null;
    // Flip the path: each column on the stack takes the row that led on from it.
    let i = found;
    for (let h = head; h >= 0; h--) {
      const j = colStack[h]!;
      const prev = rowOf[j]!;
      rowOf[j] = i;
      colOf[i] = j;
      i = prev;
    }
  }
  return rowOf;
}

/** P A with row rowOf[j] of A as row j. */
export function permuteRows(a: CsrMatrix, rowOf: Int32Array): CsrMatrix {
  const n = a.rows;
  const rowPtr = new Int32Array(n + 1);
  for (let j = 0; j < n; j++) rowPtr[j + 1] = rowPtr[j]! + (a.rowPtr[rowOf[j]! + 1]! - a.rowPtr[rowOf[j]!]!);
  const colIdx = new Int32Array(rowPtr[n]!);
  const values = new Float64Array(rowPtr[n]!);
  for (let j = 0; j < n; j++) {
    const src = a.rowPtr[rowOf[j]!]!;
    const len = rowPtr[j + 1]! - rowPtr[j]!;
    colIdx.set(a.colIdx.subarray(src, src + len), rowPtr[j]!);
    values.set(a.values.subarray(src, src + len), rowPtr[j]!);
  }
  return { rows: n, cols: a.cols, rowPtr, colIdx, values };
}
