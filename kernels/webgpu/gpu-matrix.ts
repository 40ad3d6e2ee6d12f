import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { WebGpuSolverError } from "./errors.ts";
import type { GpuContext } from "./gpu-context.ts";
import { planRowBlocks, rowsPerInvocationFor, WORKGROUP_SIZE, type RowBlock } from "./partition.ts";
import { HEADER_BYTES, type StateLayout } from "./shaders/layout.ts";

export interface GpuRowBlock extends RowBlock {
  readonly rowPtr: GPUBuffer;
  readonly colIdx: GPUBuffer;
  readonly values: GPUBuffer;
  /** Uniform Params { rowStart, rows, wgBase, wgCount } of this block's SpMV dispatch. */
  readonly params: GPUBuffer;
}

/**
 * A CSR matrix in f32 on the GPU, split into row blocks that each fit one storage binding. Vectors are
 * not split: n·4 bytes must fit one binding (n up to 2²⁸ on a 1 GiB binding).
 */
export class GpuMatrix {
  private constructor(
    readonly n: number,
    readonly nnz: number,
    readonly blocks: readonly GpuRowBlock[],
    /** Params of a full-length vector pass: { 0, n, 0, wgFull }. */
    readonly fullParams: GPUBuffer,
    readonly rowsPerInvocation: number,
  ) {}

  /** Bytes the matrix occupies on the GPU: f32 values, u32 column indices, per-block row pointers. */
  get bytes(): number {
    return 8 * this.nnz + 4 * (this.n + this.blocks.length);
  }

  get rowsPerWorkgroup(): number {
    return WORKGROUP_SIZE * this.rowsPerInvocation;
  }

  get wgFull(): number {
    return Math.ceil(this.n / this.rowsPerWorkgroup);
  }

  get wgBlocks(): number {
    return this.blocks.reduce((sum, b) => sum + b.wgCount, 0);
  }

  layout(slots: number): StateLayout {
    return {
      slots,
      stride: Math.max(this.wgFull, this.wgBlocks),
      wgFull: this.wgFull,
      wgBlocks: this.wgBlocks,
      rowsPerInvocation: this.rowsPerInvocation,
    };
  }

  static async upload(ctx: GpuContext, a: CsrMatrix): Promise<GpuMatrix> {
    const n = a.rows;
    // Vectors are not split: each must fit one binding, and the staging buffer (a vector plus the
    // 64-byte header) one buffer.
    if (n * 4 > ctx.limits.maxBindingBytes || n * 4 + HEADER_BYTES > ctx.limits.maxBufferBytes) {
      throw new WebGpuSolverError(
        "matrix_too_large",
        `a vector of ${n} f32 needs ${n * 4} bytes; one binding holds at most ${ctx.limits.maxBindingBytes} (vectors are not split)`,
      );
    }
    const rpi = rowsPerInvocationFor(ctx.limits.rowsPerInvocation, ctx.limits.softwareAdapter, n);
    const plan = planRowBlocks(a.rowPtr, n, ctx.limits.maxBindingBytes, WORKGROUP_SIZE * rpi);
    const blocks: GpuRowBlock[] = [];
    let fullParams: GPUBuffer | null = null;
    try {
      return await ctx.scoped("uploading the matrix", () => {
        for (const [i, b] of plan.entries()) blocks.push(uploadBlock(ctx, a, b, i));
        const wgFull = Math.ceil(n / (WORKGROUP_SIZE * rpi));
        fullParams = ctx.uniform("params.full", new Uint32Array([0, n, 0, wgFull]));
        return new GpuMatrix(n, a.rowPtr[n] ?? 0, blocks, fullParams, rpi);
      });
    } catch (e) {
      for (const b of blocks) destroyBlock(b);
      (fullParams as GPUBuffer | null)?.destroy();
      throw e;
    }
  }

  destroy(): void {
    for (const b of this.blocks) destroyBlock(b);
    this.fullParams.destroy();
  }
}

function uploadBlock(ctx: GpuContext, a: CsrMatrix, b: RowBlock, index: number): GpuRowBlock {
  const rowPtr = new Uint32Array(b.rows + 1);
  for (let i = 0; i <= b.rows; i++) rowPtr[i] = a.rowPtr[b.rowStart + i]! - b.nnzStart;
  // Column indices are valid non-negative int32, so their bits are the same u32: upload a view, no copy.
  const colIdx = new Uint32Array(a.colIdx.buffer, a.colIdx.byteOffset + b.nnzStart * 4, b.nnz);
  const values = Float32Array.from(a.values.subarray(b.nnzStart, b.nnzStart + b.nnz));
  return {
    ...b,
    rowPtr: ctx.storage(`block${index}.rowPtr`, rowPtr),
    colIdx: ctx.storage(`block${index}.colIdx`, colIdx),
    values: ctx.storage(`block${index}.values`, values),
    params: ctx.uniform(`block${index}.params`, new Uint32Array([b.rowStart, b.rows, b.wgBase, b.wgCount])),
  };
}

function destroyBlock(b: GpuRowBlock): void {
  b.rowPtr.destroy();
  b.colIdx.destroy();
  b.values.destroy();
  b.params.destroy();
}
