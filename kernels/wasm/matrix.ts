import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { SolverError } from "../../src/core/solver/errors.ts";
import type { KernelMatrix } from "../../src/core/solver/kernels.ts";

/** Work units (nonzeros + 2 per row) per row block: ~10–30 µs of SpMV, the unit threads claim. */
const ROW_BLOCK_WORK = 1 << 15;
/** Row blocks end on multiples of 8 rows (one 64-byte line of the f64 output), so two threads never
 *  write the same cache line. */
const ROW_ALIGN = 8;

/** The wasm backend's matrix handle: where the CSR arrays and the row blocks live in wasm memory. */
export class WasmMatrix implements KernelMatrix {
  constructor(
    readonly owner: object,
    readonly rows: number,
    readonly cols: number,
    readonly nnz: number,
    readonly rowPtr: number,
    readonly colIdx: number,
    readonly values: number,
    /** i32[blocks + 1]: first row of each row block. */
    readonly rowBlocks: number,
    readonly blocks: number,
  ) {}

  /** One row block is not worth waking helpers for. */
  get parallel(): boolean {
    return this.blocks > 1;
  }
}

/**
 * Cuts the rows into blocks of similar work (≈ ROW_BLOCK_WORK). The partition depends on the matrix
 * alone: reductions sum one partial per row block in block order, so results are the same for any
 * thread count, while balancing irregular matrices (a few dense rows) across threads.
 */
export function rowBlocks(a: CsrMatrix): Int32Array {
  const starts = [0];
  let work = 0;
  for (let i = 0; i < a.rows; i++) {
    work += a.rowPtr[i + 1]! - a.rowPtr[i]! + 2;
    if (work >= ROW_BLOCK_WORK && (i + 1) % ROW_ALIGN === 0 && i + 1 < a.rows) {
      starts.push(i + 1);
      work = 0;
    }
  }
  starts.push(a.rows);
  return Int32Array.from(starts);
}

/** The CsrMatrix invariants the kernels rely on; an index outside [0, cols) would read arbitrary wasm
 *  memory, so it is refused at the door. O(nnz), like the copy into wasm memory that follows. */
export function checkCsr(a: CsrMatrix, nnz: number): void {
  const { colIdx, rowPtr, cols, rows } = a;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new SolverError("dimension_mismatch", `invalid matrix shape ${rows}×${cols}`);
  }
  if (rowPtr.length !== rows + 1 || colIdx.length < nnz || a.values.length < nnz) {
    throw new SolverError("dimension_mismatch", `CSR arrays do not match ${rows} rows and ${nnz} nonzeros`);
  }
  if (rowPtr[0] !== 0) throw new SolverError("dimension_mismatch", "rowPtr[0] must be 0");
  for (let i = 0; i < rows; i++) {
    if (rowPtr[i + 1]! < rowPtr[i]!)
      throw new SolverError("dimension_mismatch", `rowPtr decreases at row ${i}`);
  }
  for (let k = 0; k < nnz; k++) {
    const c = colIdx[k]!;
    if (c < 0 || c >= cols) {
      throw new SolverError(
        "dimension_mismatch",
        `column index ${c} at position ${k} is outside [0, ${cols})`,
      );
    }
  }
}
