import type { GpuContext } from "../gpu-context.ts";
import type { GpuMatrix } from "../gpu-matrix.ts";
import {
  bicgScalarShader,
  bicgSpmvTShader,
  bicgSpmvVShader,
  bicgVecPShader,
  bicgVecSShader,
  bicgVecXShader,
  BICG_SLOTS,
} from "../shaders/bicgstab.ts";
import { encodeHeader, stateBytes } from "../shaders/layout.ts";
import type { InnerMethod } from "./method.ts";

/** Jacobi-preconditioned BiCGSTAB on the GPU: 6 + 2·(row blocks) dispatches per iteration. */
export async function createBicgstabMethod(
  ctx: GpuContext,
  m: GpuMatrix,
  dinv: Float32Array,
  label: string,
): Promise<InnerMethod> {
  const layout = m.layout(BICG_SLOTS);
  const scalarCode = bicgScalarShader(layout);
  const [vecP, vecS, vecX, spmvV, spmvT, alpha, omega, beta] = await Promise.all([
    ctx.pipeline(bicgVecPShader(layout), "main"),
    ctx.pipeline(bicgVecSShader(layout), "main"),
    ctx.pipeline(bicgVecXShader(layout), "main"),
    ctx.pipeline(bicgSpmvVShader(layout), "main"),
    ctx.pipeline(bicgSpmvTShader(layout), "main"),
    ctx.pipeline(scalarCode, "alpha"),
    ctx.pipeline(scalarCode, "omega"),
    ctx.pipeline(scalarCode, "beta"),
  ]);
  const n = m.n;
  return ctx.scoped("allocating BiCGSTAB vectors", () => {
    const state = ctx.storage("bicg.state", stateBytes(layout));
    const names = ["x", "r", "rhat", "p", "ph", "v", "s", "sh", "t"] as const;
    const vec = Object.fromEntries(names.map((k) => [k, ctx.storage(`bicg.${k}`, n * 4)])) as Record<
      (typeof names)[number],
      GPUBuffer
    >;
    const dinvBuffer = ctx.storage("bicg.dinv", dinv);
    const full = m.fullParams;
    const groups = {
      vecP: ctx.bindGroup(vecP, [full, state, vec.r, vec.p, vec.v, vec.ph, dinvBuffer]),
      vecS: ctx.bindGroup(vecS, [full, state, vec.r, vec.v, vec.s, vec.sh, dinvBuffer]),
      vecX: ctx.bindGroup(vecX, [full, state, vec.x, vec.r, vec.ph, vec.sh, vec.s, vec.t, vec.rhat]),
      spmvV: m.blocks.map((b) =>
        ctx.bindGroup(spmvV, [b.params, state, b.rowPtr, b.colIdx, b.values, vec.ph, vec.v, vec.rhat]),
      ),
      spmvT: m.blocks.map((b) =>
        ctx.bindGroup(spmvT, [b.params, state, b.rowPtr, b.colIdx, b.values, vec.sh, vec.t, vec.s]),
      ),
      alpha: ctx.bindGroup(alpha, [state]),
      omega: ctx.bindGroup(omega, [state]),
      beta: ctx.bindGroup(beta, [state]),
    };
    const owned = [state, dinvBuffer, ...Object.values(vec)];

    return {
      label,
      gpuStops: true,
      dispatchesPerIteration: 6 + 2 * m.blocks.length,
      flopsPerIteration: 4 * m.nnz + 26 * n,
      workingSetBytes: m.bytes + 10 * 4 * n + stateBytes(layout),
      state,
      reset(rhs: Float32Array, rr0: number, tol2: number): void {
        // r̂ = r₀ = rhs, so ρ₀ = r₀·r₀; p = v = 0 and β = 0 make the first vecP pass set p = r.
        ctx.write(state, encodeHeader({ ALPHA: 1, OMEGA: 1, BETA: 0, RHO: rr0, RR: rr0, RR0: rr0 }, tol2));
        ctx.write(vec.r, rhs);
        ctx.write(vec.rhat, rhs);
        const enc = ctx.device.createCommandEncoder();
        for (const v of [vec.x, vec.p, vec.v]) enc.clearBuffer(v);
        ctx.submit(enc);
      },
      encodeIterations(pass: GPUComputePassEncoder, count: number): void {
        for (let i = 0; i < count; i++) {
          ctx.dispatch(pass, vecP, groups.vecP, m.wgFull, "loop");
          m.blocks.forEach((b, j) => ctx.dispatch(pass, spmvV, groups.spmvV[j]!, b.wgCount, "loop"));
          ctx.dispatch(pass, alpha, groups.alpha, 1, "loop");
          ctx.dispatch(pass, vecS, groups.vecS, m.wgFull, "loop");
          m.blocks.forEach((b, j) => ctx.dispatch(pass, spmvT, groups.spmvT[j]!, b.wgCount, "loop"));
          ctx.dispatch(pass, omega, groups.omega, 1, "loop");
          ctx.dispatch(pass, vecX, groups.vecX, m.wgFull, "loop");
          ctx.dispatch(pass, beta, groups.beta, 1, "loop");
        }
      },
      encodeCheck(): void {},
      currentX: () => vec.x,
      destroy(): void {
        for (const b of owned) b.destroy();
      },
    };
  });
}
