import { greedyColoring } from "../../../src/core/solver/ordering/index.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import type { GpuContext } from "../gpu-context.ts";
import type { GpuMatrix } from "../gpu-matrix.ts";
import { encodeHeader, stateBytes } from "../shaders/layout.ts";
import {
  gaussSeidelColorShader,
  jacobiSweepShader,
  residualShader,
  stationaryCheckShader,
  STATIONARY_SLOTS,
} from "../shaders/stationary.ts";
import type { InnerMethod } from "./method.ts";

/**
 * Jacobi iteration: one fused sweep+residual dispatch per row block per iteration (ping-pong x buffers),
 * plus one reduction at each readback. The residual read back is that of the iterate before the last sweep.
 */
export async function createJacobiMethod(
  ctx: GpuContext,
  m: GpuMatrix,
  dinv: Float32Array,
  label: string,
): Promise<InnerMethod> {
  const layout = m.layout(STATIONARY_SLOTS);
  const [sweep, check] = await Promise.all([
    ctx.pipeline(jacobiSweepShader(layout), "main"),
    ctx.pipeline(stationaryCheckShader(layout), "main"),
  ]);
  const n = m.n;
  return ctx.scoped("allocating Jacobi vectors", () => {
    const state = ctx.storage("jacobi.state", stateBytes(layout));
    const xa = ctx.storage("jacobi.xa", n * 4);
    const xb = ctx.storage("jacobi.xb", n * 4);
    const b = ctx.storage("jacobi.b", n * 4);
    const dinvBuffer = ctx.storage("jacobi.dinv", dinv);
    const groupsFrom = (from: GPUBuffer, to: GPUBuffer): GPUBindGroup[] =>
      m.blocks.map((blk) =>
        ctx.bindGroup(sweep, [
          blk.params,
          state,
          blk.rowPtr,
          blk.colIdx,
          blk.values,
          from,
          to,
          b,
          dinvBuffer,
        ]),
      );
    const even = groupsFrom(xa, xb);
    const odd = groupsFrom(xb, xa);
    const checkGroup = ctx.bindGroup(check, [state]);
    let sweeps = 0;
    return {
      label,
      gpuStops: false,
      dispatchesPerIteration: m.blocks.length,
      flopsPerIteration: 2 * m.nnz + 4 * n,
      workingSetBytes: m.bytes + 4 * 4 * n + stateBytes(layout),
      state,
      reset(rhs: Float32Array, rr0: number, tol2: number): void {
        ctx.write(state, encodeHeader({ RR: rr0, RR0: rr0 }, tol2));
        ctx.write(b, rhs);
        const enc = ctx.device.createCommandEncoder();
        enc.clearBuffer(xa);
        ctx.submit(enc);
        sweeps = 0;
      },
      encodeIterations(pass: GPUComputePassEncoder, count: number): void {
        for (let i = 0; i < count; i++, sweeps++) {
          const groups = sweeps % 2 === 0 ? even : odd;
          m.blocks.forEach((blk, j) => ctx.dispatch(pass, sweep, groups[j]!, blk.wgCount, "loop"));
        }
      },
      encodeCheck(pass: GPUComputePassEncoder): void {
        ctx.dispatch(pass, check, checkGroup, 1, "check");
      },
      currentX: () => (sweeps % 2 === 0 ? xa : xb),
      destroy(): void {
        for (const buf of [state, xa, xb, b, dinvBuffer]) buf.destroy();
      },
    };
  });
}

interface ColorGroup {
  readonly color: number;
  readonly block: number;
  readonly wgCount: number;
  readonly params: GPUBuffer;
}

/**
 * Multicolor Gauss–Seidel: a greedy coloring of A + Aᵀ (CPU, once) groups rows that share no entry; one
 * in-place dispatch per (color, row block) per sweep, colors in order. The residual is computed only at
 * readbacks (one extra pass per block plus a reduction).
 */
export async function createGaussSeidelMethod(
  ctx: GpuContext,
  a: CsrMatrix,
  m: GpuMatrix,
  dinv: Float32Array,
  label: string,
): Promise<InnerMethod> {
  const coloring = greedyColoring(a);
  const layout = m.layout(STATIONARY_SLOTS);
  const [colorPass, residual, check] = await Promise.all([
    ctx.pipeline(gaussSeidelColorShader(layout), "main"),
    ctx.pipeline(residualShader(layout), "main"),
    ctx.pipeline(stationaryCheckShader(layout), "main"),
  ]);
  const n = m.n;
  // Rows ordered by (color, block): each (color, block) group is one contiguous range of rowList.
  const rowList = new Uint32Array(n);
  const ranges: { color: number; block: number; offset: number; count: number }[] = [];
  let offset = 0;
  for (let c = 0; c < coloring.numColors; c++) {
    const lo = coloring.colorPtr[c]!;
    const hi = coloring.colorPtr[c + 1]!;
    let k = lo; // rowsByColor is ascending within a color, and blocks are ascending row ranges
    m.blocks.forEach((blk, bi) => {
      const start = offset;
      while (k < hi && coloring.rowsByColor[k]! < blk.rowStart + blk.rows)
        rowList[offset++] = coloring.rowsByColor[k++]!;
      if (offset > start) ranges.push({ color: c, block: bi, offset: start, count: offset - start });
    });
  }
  return ctx.scoped("allocating Gauss–Seidel vectors", () => {
    const state = ctx.storage("gs.state", stateBytes(layout));
    const x = ctx.storage("gs.x", n * 4);
    const b = ctx.storage("gs.b", n * 4);
    const dinvBuffer = ctx.storage("gs.dinv", dinv);
    const rowListBuffer = ctx.storage("gs.rowList", rowList);
    const groups: (ColorGroup & { group: GPUBindGroup })[] = ranges.map((rg) => {
      const blk = m.blocks[rg.block]!;
      const wgCount = Math.ceil(rg.count / m.rowsPerWorkgroup);
      const params = ctx.uniform(
        `gs.c${rg.color}.b${rg.block}`,
        new Uint32Array([blk.rowStart, rg.count, rg.offset, wgCount]),
      );
      const group = ctx.device.createBindGroup({
        layout: colorPass.getBindGroupLayout(0),
        entries: [params, blk.rowPtr, blk.colIdx, blk.values, x, b, dinvBuffer, rowListBuffer].map(
          (buffer, i) => ({
            binding: i === 0 ? 0 : i + 1,
            resource: { buffer },
          }),
        ),
      });
      return { color: rg.color, block: rg.block, wgCount, params, group };
    });
    const residualGroups = m.blocks.map((blk) =>
      ctx.bindGroup(residual, [blk.params, state, blk.rowPtr, blk.colIdx, blk.values, x, b]),
    );
    const checkGroup = ctx.bindGroup(check, [state]);
    return {
      label: `${label}[multicolor: ${coloring.numColors} colors]`,
      gpuStops: false,
      dispatchesPerIteration: groups.length,
      flopsPerIteration: 2 * m.nnz + 3 * n,
      workingSetBytes: m.bytes + 4 * 4 * n + stateBytes(layout),
      state,
      reset(rhs: Float32Array, rr0: number, tol2: number): void {
        ctx.write(state, encodeHeader({ RR: rr0, RR0: rr0 }, tol2));
        ctx.write(b, rhs);
        const enc = ctx.device.createCommandEncoder();
        enc.clearBuffer(x);
        ctx.submit(enc);
      },
      encodeIterations(pass: GPUComputePassEncoder, count: number): void {
        for (let i = 0; i < count; i++) {
          for (const g of groups) ctx.dispatch(pass, colorPass, g.group, g.wgCount, "loop");
        }
      },
      encodeCheck(pass: GPUComputePassEncoder): void {
        m.blocks.forEach((blk, j) => ctx.dispatch(pass, residual, residualGroups[j]!, blk.wgCount, "check"));
        ctx.dispatch(pass, check, checkGroup, 1, "check");
      },
      currentX: () => x,
      destroy(): void {
        for (const buf of [state, x, b, dinvBuffer, rowListBuffer]) buf.destroy();
        for (const g of groups) g.params.destroy();
      },
    };
  });
}
