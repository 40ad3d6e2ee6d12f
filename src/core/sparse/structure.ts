import type { CsrMatrix } from "./csr.ts";
import { nnzOf } from "./csr.ts";

/** Aᵀ as CSR (equivalently: A as CSC). Column indices of the result come out sorted. */
export function transpose(a: CsrMatrix): CsrMatrix {
  const { rows, cols, rowPtr, colIdx, values } = a;
  const nnz = nnzOf(a);
  const tPtr = new Int32Array(cols + 1);
  for (let k = 0; k < nnz; k++) tPtr[colIdx[k]! + 1]!++;
  for (let j = 0; j < cols; j++) tPtr[j + 1] = tPtr[j + 1]! + tPtr[j]!;
  const next = tPtr.slice(0, cols);
  const tIdx = new Int32Array(nnz);
  const tVal = new Float64Array(nnz);
  for (let i = 0; i < rows; i++) {
    for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) {
      const j = colIdx[k]!;
      const dst = next[j]!++;
      tIdx[dst] = i;
      tVal[dst] = values[k]!;
    }
  }
  return { rows: cols, cols: rows, rowPtr: tPtr, colIdx: tIdx, values: tVal };
}

/** Position of a_ij in colIdx/values (binary search over row i's sorted columns), or -1 if it is not stored. */
export function entryPosition(a: CsrMatrix, i: number, j: number): number {
  let lo = a.rowPtr[i]!;
  let hi = a.rowPtr[i + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = a.colIdx[mid]!;
    if (c === j) return mid;
    if (c < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Whether A is square with the pattern of Aᵀ and |a_ij − a_ji| ≤ relativeTolerance · max|a| for every
 * stored entry (0, the default: exact symmetry). O(nnz log(row length)), no allocation.
 */
export function isSymmetric(a: CsrMatrix, relativeTolerance = 0): boolean {
  if (a.rows !== a.cols) return false;
  let scale = 0;
  if (relativeTolerance > 0) for (const v of a.values) scale = Math.max(scale, Math.abs(v));
  const tolerance = relativeTolerance * scale;
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      const j = a.colIdx[k]!;
      if (j === i) continue;
      const mirror = entryPosition(a, j, i);
      if (mirror < 0 || Math.abs(a.values[k]! - a.values[mirror]!) > tolerance) return false;
    }
  }
  return true;
}

/** Diagonal of A (0 where no entry is stored). */
export function diagonal(a: CsrMatrix): Float64Array {
  const n = Math.min(a.rows, a.cols);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      if (a.colIdx[k] === i) {
        d[i] = a.values[k]!;
        break;
      }
    }
  }
  return d;
}

/** Position of the diagonal entry of each row in colIdx/values, or -1 if the row stores none. */
export function diagonalPositions(a: CsrMatrix): Int32Array {
  const pos = new Int32Array(a.rows).fill(-1);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      if (a.colIdx[k] === i) {
        pos[i] = k;
        break;
      }
    }
  }
  return pos;
}

/** A copy of A whose pattern includes every diagonal entry (explicit zeros where A stores none). */
export function withFullDiagonal(a: CsrMatrix): CsrMatrix {
  const n = a.rows;
  let missing = 0;
  const pos = diagonalPositions(a);
  for (let i = 0; i < n; i++) if (pos[i]! < 0) missing++;
  const nnz = nnzOf(a) + missing;
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let w = 0;
  for (let i = 0; i < n; i++) {
    let placed = pos[i]! >= 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      const j = a.colIdx[k]!;
      if (!placed && j > i) {
        colIdx[w++] = i;
        placed = true;
      }
      colIdx[w] = j;
      values[w++] = a.values[k]!;
    }
    if (!placed) colIdx[w++] = i;
    rowPtr[i + 1] = w;
  }
  return { rows: n, cols: a.cols, rowPtr, colIdx, values };
}

/**
 * Adjacency of the symmetric pattern of A + Aᵀ without the diagonal, as CSR-style (ptr, idx) arrays.
 * Orderings (RCM) and the coloring work on this graph.
 */
export interface Graph {
  readonly n: number;
  readonly ptr: Int32Array;
  readonly idx: Int32Array;
}

export function symmetricGraph(a: CsrMatrix): Graph {
  const n = a.rows;
  const t = transpose(a);
  const ptr = new Int32Array(n + 1);
  const marker = new Int32Array(n).fill(-1);
  // Count the union of row i of A and row i of Aᵀ (minus the diagonal), then fill.
  for (let pass = 0; pass < 2; pass++) {
    marker.fill(-1);
    let w = 0;
    const idx = pass === 1 ? new Int32Array(ptr[n]!) : null;
    for (let i = 0; i < n; i++) {
      for (const m of [a, t]) {
        for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++) {
          const j = m.colIdx[k]!;
          if (j === i || marker[j] === i) continue;
          marker[j] = i;
          if (idx !== null) idx[w] = j;
          w++;
        }
      }
      if (idx === null) ptr[i + 1] = w;
    }
    if (idx !== null) return { n, ptr, idx };
  }
  throw new Error("unreachable");
}
