import type { CsrMatrix } from "./csr.ts";
import { nnzOf } from "./csr.ts";
import { InputError } from "./errors.ts";

/** How the stored entries of a coordinate list stand for the whole matrix (Matrix Market's names). */
export type Symmetry = "general" | "symmetric" | "skew-symmetric";

/** A coordinate (triplet) list with 0-based indices. */
export interface CooMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly rowIdx: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float64Array;
}

export interface FromCooOptions {
  /** "symmetric"/"skew-symmetric": every off-diagonal entry (i,j,v) also stands for (j,i,±v). */
  symmetry?: Symmetry;
  /** Use only the first `count` entries of the arrays (default: values.length). */
  count?: number;
}

/**
 * Builds a CSR matrix from 0-based triplets that the caller has already range-checked.
 *
 * Duplicate coordinates are SUMMED (the finite-element assembly convention, as in SciPy's tocsr() and
 * SuiteSparse's cs_compress + cs_dupl); explicitly stored zeros are kept as structural entries.
 * Columns come out sorted without any comparison sort: a counting sort by column, then a stable one by row
 * (two O(nnz + n) passes), so duplicates end up adjacent and are summed in input order (deterministic).
 */
export function fromCoo(
  rows: number,
  cols: number,
  rowIdx: ArrayLike<number>,
  colIdx: ArrayLike<number>,
  values: ArrayLike<number>,
  options: FromCooOptions = {},
): CsrMatrix {
  const count = options.count ?? values.length;
  const symmetry = options.symmetry ?? "general";
  const mirror = symmetry !== "general";
  if (mirror && rows !== cols) {
    throw new InputError("not_square", `a ${symmetry} matrix must be square; got ${rows}×${cols}`, {
      rows,
      cols,
    });
  }
  const sign = symmetry === "skew-symmetric" ? -1 : 1;

  // Pass 1: bucket by column (colPtr[j + 1] counts column j first, then becomes the prefix sum).
  const colPtr = new Int32Array(cols + 1);
  let total = count;
  for (let k = 0; k < count; k++) {
    const i = rowIdx[k] as number;
    const j = colIdx[k] as number;
    colPtr[j + 1]!++;
    if (mirror && i !== j) {
      colPtr[i + 1]!++;
      total++;
    }
  }
  for (let j = 0; j < cols; j++) colPtr[j + 1]! += colPtr[j]!;
  const cscRow = new Int32Array(total);
  const cscVal = new Float64Array(total);
  const next = colPtr.slice(0, cols);
  for (let k = 0; k < count; k++) {
    const i = rowIdx[k] as number;
    const j = colIdx[k] as number;
    const v = values[k] as number;
    let p = next[j]!++;
    cscRow[p] = i;
    cscVal[p] = v;
    if (mirror && i !== j) {
      p = next[i]!++;
      cscRow[p] = j;
      cscVal[p] = sign * v;
    }
  }
  return fromCsc(rows, cols, colPtr, cscRow, cscVal);
}

/**
 * Converts column-compressed arrays (already validated: colPtr monotone from 0 to nnz, row indices in range,
 * any order and duplicates allowed within a column) into canonical CSR, summing duplicates.
 */
export function fromCsc(
  rows: number,
  cols: number,
  colPtr: ArrayLike<number>,
  rowIdx: ArrayLike<number>,
  values: ArrayLike<number>,
): CsrMatrix {
  const nnz = colPtr[cols] as number;
  const rowPtr = new Int32Array(rows + 1);
  for (let p = 0; p < nnz; p++) rowPtr[(rowIdx[p] as number) + 1]!++;
  for (let i = 0; i < rows; i++) rowPtr[i + 1]! += rowPtr[i]!;
  const next = rowPtr.slice(0, rows);
  const outCol = new Int32Array(nnz);
  const outVal = new Float64Array(nnz);
  // Visiting columns in order and appending to each row's slot leaves every row sorted by column.
  for (let j = 0; j < cols; j++) {
    const end = colPtr[j + 1] as number;
    for (let p = colPtr[j] as number; p < end; p++) {
      const q = next[rowIdx[p] as number]!++;
      outCol[q] = j;
      outVal[q] = values[p] as number;
    }
  }
  return sumAdjacentDuplicates(rows, cols, rowPtr, outCol, outVal);
}

/** Merges equal adjacent column indices within each (column-sorted) row, in place, then trims. */
function sumAdjacentDuplicates(
  rows: number,
  cols: number,
  rowPtr: Int32Array,
  colIdx: Int32Array,
  values: Float64Array,
): CsrMatrix {
  let w = 0;
  let start = 0;
  for (let i = 0; i < rows; i++) {
    const end = rowPtr[i + 1]!;
    rowPtr[i] = w;
    let last = -1;
    for (let q = start; q < end; q++) {
      const c = colIdx[q]!;
      if (c === last) {
        const sum = values[w - 1]! + values[q]!;
        if (!Number.isFinite(sum)) {
          throw new InputError(
            "non_finite",
            `duplicate entries at (${i + 1}, ${c + 1}) sum to ${sum}; values must be finite`,
            { value: String(sum) },
          );
        }
        values[w - 1] = sum;
      } else {
        colIdx[w] = c;
        values[w] = values[q]!;
        w++;
        last = c;
      }
    }
    start = end;
  }
  rowPtr[rows] = w;
  const trimmed = w < colIdx.length;
  return {
    rows,
    cols,
    rowPtr,
    colIdx: trimmed ? colIdx.slice(0, w) : colIdx,
    values: trimmed ? values.slice(0, w) : values,
  };
}

/** The stored entries of A as 0-based triplets, row by row (copies). */
export function csrToCoo(a: CsrMatrix): CooMatrix {
  const nnz = nnzOf(a);
  const rowIdx = new Int32Array(nnz);
  for (let i = 0; i < a.rows; i++) rowIdx.fill(i, a.rowPtr[i]!, a.rowPtr[i + 1]!);
  return {
    rows: a.rows,
    cols: a.cols,
    rowIdx,
    colIdx: a.colIdx.slice(0, nnz),
    values: a.values.slice(0, nnz),
  };
}
