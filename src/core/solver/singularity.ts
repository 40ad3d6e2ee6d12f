import type { CsrMatrix } from "../sparse/csr.ts";

/**
 * Cheap proofs that A is singular, checked before any method runs so that a hopeless system gets an error that
 * names its problem instead of "converged" with a meaningless path (a matrix of explicit zeros) or a long
 * stagnation. Only proofs: a matrix that passes may still be numerically singular, which the methods and the
 * certificate then report.
 */

/** Augmenting-path steps allowed for the structural-rank check, per stored entry (it is O(n·nnz) at worst). */
const MATCHING_WORK_PER_ENTRY = 32;

/** Why A is singular, or null when no cheap proof was found. */
export function singularityOf(a: CsrMatrix): string | null {
  return zeroRowOrColumn(a) ?? structuralRankDeficiency(a);
}

/** A row or column whose stored values are all zero (explicit zeros count as zero). O(nnz). */
function zeroRowOrColumn(a: CsrMatrix): string | null {
  const { rowPtr, colIdx, values, rows, cols } = a;
  const columnUsed = new Uint8Array(cols);
  for (let i = 0; i < rows; i++) {
    let rowHasValue = false;
    for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) {
      if (values[k] !== 0) {
        rowHasValue = true;
        columnUsed[colIdx[k]!] = 1;
      }
    }
    if (!rowHasValue) {
      // Report the first zero row, but say so plainly when the whole matrix is zero.
      if (isZeroMatrix(a)) return `A is the zero matrix (${rows}×${cols}, every stored value is 0)`;
      return `row ${i + 1} of A is zero (no nonzero value), so A is singular`;
    }
  }
  const zeroColumn = columnUsed.indexOf(0);
  if (zeroColumn >= 0) return `column ${zeroColumn + 1} of A is zero (no nonzero value), so A is singular`;
  return null;
}

function isZeroMatrix(a: CsrMatrix): boolean {
  for (let k = 0; k < a.values.length; k++) if (a.values[k] !== 0) return false;
  return true;
}

/**
 * Structural rank below n: no perfect matching of rows to columns through nonzero entries (Duff's MC21:
 * depth-first augmenting paths, iterative so deep paths cannot overflow the stack). Gives up (null) past a
 * work budget, since a proof is only worth having cheaply.
 */
function structuralRankDeficiency(a: CsrMatrix): string | null {
  const { rowPtr, colIdx, values, rows } = a;
  const budget = MATCHING_WORK_PER_ENTRY * Math.max(rowPtr[rows]!, rows);
  let work = 0;
  const rowOfColumn = new Int32Array(a.cols).fill(-1);
  const visitedInRound = new Int32Array(a.cols).fill(-1);
  // The DFS stack: the row at each depth and the next entry of that row to try.
  const stackRow = new Int32Array(rows);
  const stackNext = new Int32Array(rows);
  // Cheap assignment first: most rows match a free column at once.
  const matched = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) {
      const j = colIdx[k]!;
      if (values[k] !== 0 && rowOfColumn[j] === -1) {
        rowOfColumn[j] = i;
        matched[i] = 1;
        break;
      }
    }
  }
  let unmatched = 0;
  for (let root = 0; root < rows; root++) {
    if (matched[root] === 1) continue;
    let depth = 0;
    stackRow[0] = root;
    stackNext[0] = rowPtr[root]!;
    let found = false;
    while (depth >= 0 && !found) {
      const i = stackRow[depth]!;
      let advanced = false;
      while (stackNext[depth]! < rowPtr[i + 1]!) {
        if (++work > budget) return null;
        const k = stackNext[depth]!++;
        const j = colIdx[k]!;
        if (values[k] === 0 || visitedInRound[j] === root) continue;
        visitedInRound[j] = root;
        const owner = rowOfColumn[j]!;
        if (owner === -1) {
          // Augment along the stack: each row on it takes the column it reached its successor through.
          let column = j;
          for (let d = depth; d >= 0; d--) {
            const row = stackRow[d]!;
            const previous = d > 0 ? colIdx[stackNext[d - 1]! - 1]! : -1;
            rowOfColumn[column] = row;
            column = previous;
          }
          found = true;
          break;
        }
        depth++;
        stackRow[depth] = owner;
        stackNext[depth] = rowPtr[owner]!;
        advanced = true;
        break;
      }
      if (!found && !advanced) depth--;
    }
    if (!found) unmatched++;
  }
  if (unmatched === 0) return null;
  return `A is structurally singular: its nonzero pattern has rank at most ${rows - unmatched} of ${rows} (no way to pair every row with its own column)`;
}
