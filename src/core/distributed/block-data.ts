import type { CsrMatrix } from "../sparse/csr.ts";
import type { RowBlock, RowPartition } from "./partition.ts";
import { DISTRIBUTED_PROTOCOL_VERSION } from "../protocol/distributed.ts";
import type { BlockData, BlockPreconditionerName, DistributedMethod } from "../protocol/distributed.ts";

/**
 * BlockData for one block of a row partition: rows [rowStart, rowEnd) of A with column j renumbered to
 * j − rowStart when the block owns it, else to rows + (position of j in haloCols). The halo order is the
 * partition's (ascending global column), so the values a neighbour sends for `exports` (also ascending)
 * land in consecutive halo slots of that owner.
 */
export function buildBlockData(
  a: CsrMatrix,
  partition: RowPartition,
  block: RowBlock,
  b: Float64Array,
  x: Float64Array,
  method: DistributedMethod,
  preconditioner: BlockPreconditionerName,
): BlockData {
  const { rowStart, rowEnd, haloCols } = block;
  const rows = rowEnd - rowStart;
  const slotOf = new Map<number, number>();
  haloCols.forEach((c, i) => slotOf.set(c, rows + i));
  const p0 = a.rowPtr[rowStart]!;
  const nnz = a.rowPtr[rowEnd]! - p0;
  const rowPtr = new Int32Array(rows + 1);
  for (let i = 0; i <= rows; i++) rowPtr[i] = a.rowPtr[rowStart + i]! - p0;
  const colIdx = new Int32Array(nnz);
  for (let p = 0; p < nnz; p++) {
    const c = a.colIdx[p0 + p]!;
    colIdx[p] = c >= rowStart && c < rowEnd ? c - rowStart : slotOf.get(c)!;
  }
  return {
    v: DISTRIBUTED_PROTOCOL_VERSION,
    block: block.index,
    blocks: partition.blocks.length,
    method,
    preconditioner,
    rowStart,
    rows,
    rowPtr,
    colIdx,
    values: a.values.slice(p0, p0 + nnz),
    b: b.slice(rowStart, rowEnd),
    x: x.slice(rowStart, rowEnd),
    haloOwners: block.haloOwners.slice(),
    exports: block.exports.map((e) => ({ block: e.block, localRows: e.rows.map((r) => r - rowStart) })),
  };
}

/** The diagonal block A_II (own columns only) of a block, for its local preconditioner. */
export function diagonalBlock(d: BlockData): CsrMatrix {
  const rowPtr = new Int32Array(d.rows + 1);
  let count = 0;
  for (let i = 0; i < d.rows; i++) {
    for (let p = d.rowPtr[i]!; p < d.rowPtr[i + 1]!; p++) if (d.colIdx[p]! < d.rows) count++;
    rowPtr[i + 1] = count;
  }
  const colIdx = new Int32Array(count);
  const values = new Float64Array(count);
  let w = 0;
  for (let i = 0; i < d.rows; i++) {
    for (let p = d.rowPtr[i]!; p < d.rowPtr[i + 1]!; p++) {
      if (d.colIdx[p]! < d.rows) {
        colIdx[w] = d.colIdx[p]!;
        values[w++] = d.values[p]!;
      }
    }
  }
  return { rows: d.rows, cols: d.rows, rowPtr, colIdx, values };
}
