/**
 * Compressed sparse row matrix: the one in-memory format every solver and kernel works on.
 * Invariants (enforced by the parsers in this folder, assumed by the kernels):
 *  - rowPtr.length === rows + 1, rowPtr[0] === 0, non-decreasing, rowPtr[rows] === nnz;
 *  - within a row, column indices are strictly increasing (duplicates already summed) and in [0, cols);
 *  - every value is finite.
 */
export interface CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float64Array;
}

export function nnzOf(a: CsrMatrix): number {
  return a.rowPtr[a.rows] ?? 0;
}
