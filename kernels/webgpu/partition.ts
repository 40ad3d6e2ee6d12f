import { WebGpuSolverError } from "./errors.ts";

/** Invocations per workgroup in every row-parallel kernel (the WGSL `WG` constant). */
export const WORKGROUP_SIZE = 64;

/** Partial sums a scalar kernel should reduce per dot at most (its 64 invocations loop over them). */
export const MAX_PARTIALS = 16_384;

/**
 * Rows per invocation for an n-row matrix: the caller's fixed choice, else 8 on a software adapter
 * (SwiftShader emulates barriers per invocation, so fewer, fuller workgroups run ~10× faster) and on
 * hardware the smallest value that keeps the partial sums per dot under MAX_PARTIALS (most parallelism
 * for small n; big n amortises each workgroup's reduction over more rows).
 */
export function rowsPerInvocationFor(fixed: number | null, softwareAdapter: boolean, n: number): number {
  if (fixed !== null) return fixed;
  if (softwareAdapter) return 8;
  return Math.min(8, Math.max(1, Math.ceil(n / (WORKGROUP_SIZE * MAX_PARTIALS))));
}

/**
 * A contiguous range of matrix rows whose CSR arrays (row pointers, column indices, values) each fit one
 * storage-buffer binding. Each block gets its own buffers and bind groups and one SpMV dispatch.
 */
export interface RowBlock {
  readonly rowStart: number;
  readonly rows: number;
  readonly nnzStart: number;
  readonly nnz: number;
  /** First partial-sum slot of this block: blocks write disjoint slot ranges, so dots need no atomics. */
  readonly wgBase: number;
  /** Workgroups this block's dispatch runs: ceil(rows / rowsPerWorkgroup). */
  readonly wgCount: number;
}

/**
 * Splits the rows of a CSR matrix into the fewest contiguous blocks whose column-index and value arrays
 * (4 bytes per nonzero each, u32 and f32 on the GPU) and row-pointer array (4 bytes per row + 4) each fit
 * in `maxBindingBytes`. Greedy is optimal here: any block can always be extended while it still fits.
 */
export function planRowBlocks(
  rowPtr: Int32Array,
  rows: number,
  maxBindingBytes: number,
  rowsPerWorkgroup: number = WORKGROUP_SIZE,
): RowBlock[] {
  if (!Number.isInteger(rows) || rows < 1 || rowPtr.length !== rows + 1) {
    throw new WebGpuSolverError("invalid_input", `rowPtr must have rows + 1 = ${rows + 1} entries`);
  }
  const maxItems = Math.floor(maxBindingBytes / 4);
  if (maxItems < 2) {
    throw new WebGpuSolverError("invalid_input", `maxBindingBytes ${maxBindingBytes} is below 8 bytes`);
  }
  const maxRowsPerBlock = maxItems - 1; // rowPtr of a block holds rows + 1 entries
  const blocks: RowBlock[] = [];
  let start = 0;
  let wgBase = 0;
  while (start < rows) {
    const nnzStart = rowPtr[start]!;
    const firstRowNnz = rowPtr[start + 1]! - nnzStart;
    if (firstRowNnz > maxItems) {
      throw new WebGpuSolverError(
        "matrix_too_large",
        `row ${start} has ${firstRowNnz} nonzeros; one binding holds at most ${maxItems} (${maxBindingBytes} bytes)`,
      );
    }
    // Largest end (exclusive) with rowPtr[end] - nnzStart <= maxItems: binary search on the monotone rowPtr.
    let lo = start + 1;
    let hi = Math.min(rows, start + maxRowsPerBlock);
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (rowPtr[mid]! - nnzStart <= maxItems) lo = mid;
      else hi = mid - 1;
    }
    const end = lo;
    const blockRows = end - start;
    const wgCount = Math.ceil(blockRows / rowsPerWorkgroup);
    blocks.push({
      rowStart: start,
      rows: blockRows,
      nnzStart,
      nnz: rowPtr[end]! - nnzStart,
      wgBase,
      wgCount,
    });
    wgBase += wgCount;
    start = end;
  }
  return blocks;
}

/**
 * The dispatch grid for `workgroups` one-dimensional workgroups when each grid dimension is capped at
 * `maxPerDimension` (65535 by default): 1D when it fits, otherwise 2D with the kernel linearising
 * `wid.y * nwg.x + wid.x` and skipping the overhang.
 */
export function dispatchGrid(workgroups: number, maxPerDimension: number): readonly [number, number] {
  if (workgroups <= maxPerDimension) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  if (y > maxPerDimension) {
    throw new WebGpuSolverError(
      "matrix_too_large",
      `${workgroups} workgroups exceed a ${maxPerDimension}×${maxPerDimension} dispatch grid`,
    );
  }
  return [maxPerDimension, y];
}
