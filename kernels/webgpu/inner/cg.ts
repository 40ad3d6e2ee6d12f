import type { GpuContext } from "../gpu-context.ts";
import type { GpuMatrix } from "../gpu-matrix.ts";
import { cgScalarShader, cgSpmvShader, cgUpdateShader, CG_SLOTS } from "../shaders/cg.ts";
import { encodeHeader, stateBytes } from "../shaders/layout.ts";
import type { InnerMethod } from "./method.ts";

/** Jacobi-preconditioned CG fully on the GPU: 2 + (row blocks) dispatches per iteration (3 unsplit). */
export async function createCgMethod(
  ctx: GpuContext,
  m: GpuMatrix,
  dinv: Float32Array,
  label: string,
): Promise<InnerMethod> {
  const layout = m.layout(CG_SLOTS);
  const [update, spmv, scalar] = await Promise.all([
    ctx.pipeline(cgUpdateShader(layout), "main"),
    ctx.pipeline(cgSpmvShader(layout), "main"),
    ctx.pipeline(cgScalarShader(layout), "main"),
  ]);
  const n = m.n;
  return ctx.scoped("allocating CG vectors", () => {
    const state = ctx.storage("cg.state", stateBytes(layout));
    const [x, r, p, s, u, w] = ["x", "r", "p", "s", "u", "w"].map((name) =>
      ctx.storage(`cg.${name}`, n * 4),
    ) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
    const dinvBuffer = ctx.storage("cg.dinv", dinv);
    const updateGroup = ctx.bindGroup(update, [m.fullParams, state, x, r, p, s, u, w, dinvBuffer]);
    const spmvGroups = m.blocks.map((b) =>
      ctx.bindGroup(spmv, [b.params, state, b.rowPtr, b.colIdx, b.values, u, w]),
    );
    const scalarGroup = ctx.bindGroup(scalar, [state]);
    const owned = [state, x, r, p, s, u, w, dinvBuffer];

    const encodeOne = (pass: GPUComputePassEncoder, phase: "setup" | "loop"): void => {
      ctx.dispatch(pass, update, updateGroup, m.wgFull, phase);
      m.blocks.forEach((b, i) => ctx.dispatch(pass, spmv, spmvGroups[i]!, b.wgCount, phase));
      ctx.dispatch(pass, scalar, scalarGroup, 1, phase);
    };

    return {
      label,
      gpuStops: true,
      dispatchesPerIteration: 2 + m.blocks.length,
      flopsPerIteration: 2 * m.nnz + 14 * n,
      workingSetBytes: m.bytes + 7 * 4 * n + stateBytes(layout),
      state,
      reset(rhs: Float32Array, _rr0: number, tol2: number): void {
        ctx.write(state, encodeHeader({}, tol2));
        ctx.write(r, rhs);
        const enc = ctx.device.createCommandEncoder();
        for (const v of [x, p, s, u, w]) enc.clearBuffer(v);
        ctx.submit(enc);
      },
      encodeIterations(pass: GPUComputePassEncoder, count: number, first: boolean): void {
        // The first pass runs with α = β = 0: it computes u = D⁻¹r, w = Au and the dots that start CG.
        if (first) encodeOne(pass, "setup");
        for (let i = 0; i < count; i++) encodeOne(pass, "loop");
      },
      encodeCheck(): void {},
      currentX: () => x,
      destroy(): void {
        for (const b of owned) b.destroy();
      },
    };
  });
}
