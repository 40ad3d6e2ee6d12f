import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import type { SolveOptions, SolveResult } from "../../src/core/solver/types.ts";
import { acquireGpu, type DeviceOptions } from "./device.ts";
import { WebGpuSolverError } from "./errors.ts";
import type { AdapterSummary, GpuContext, GpuCounters, GpuLimitsUsed } from "./gpu-context.ts";
import { GpuMatrix } from "./gpu-matrix.ts";
import { createBicgstabMethod } from "./inner/bicgstab.ts";
import { createCgMethod } from "./inner/cg.ts";
import type { InnerMethod } from "./inner/method.ts";
import { runInner } from "./inner/run.ts";
import { createGaussSeidelMethod, createJacobiMethod } from "./inner/stationary.ts";
import type { InnerReason } from "./inner/types.ts";
import { chooseMethod, type MethodChoice } from "./method-choice.ts";
import { refine } from "./refine.ts";
import { HEADER_BYTES } from "./shaders/layout.ts";
import { parseNumericOptions, validateSystem } from "./validate.ts";

export interface WebGpuSolveOptions extends SolveOptions {
  /** Iterations per command buffer between residual readbacks (default 16, at least 10). */
  checkEvery?: number;
  /** Residual reduction asked of each f32 inner solve (default 1e-4). */
  innerTol?: number;
  /** Refinement steps at most (default 40). */
  maxOuter?: number;
}

export interface WebGpuSolveResult extends SolveResult {
  backend: "webgpu";
  /** All compute dispatches of this solve (setup passes, iterations, residual checks). */
  dispatches: number;
  /** mapAsync round trips of this solve (residual checks and solution reads). */
  readbacks: number;
  /** Dispatches inside the iteration loop per iteration encoded: 3 for unsplit CG, by construction. */
  dispatchesPerIteration: number;
  /** All dispatches per iteration that did work (adds setup passes and the frozen tail of the last batch). */
  dispatchesPerUsefulIteration: number;
  /** Readbacks per iteration that did work. */
  readbacksPerIteration: number;
  /** Iterations encoded (>= iterations: a batch is encoded whole; the GPU freezes once converged). */
  encodedIterations: number;
  outerIterations: number;
  innerReasons: InnerReason[];
  rowBlocks: number;
  /** Rows per kernel invocation used for this matrix (see partition.ts rowsPerInvocationFor). */
  rowsPerInvocation: number;
  adapter: AdapterSummary;
}

export interface WebGpuSolver {
  readonly adapter: AdapterSummary;
  readonly limits: GpuLimitsUsed;
  /** Cumulative counters over all solves of this solver. */
  readonly counters: Readonly<GpuCounters>;
  readonly lost: boolean;
  solve(a: CsrMatrix, b: Float64Array, options: WebGpuSolveOptions): Promise<WebGpuSolveResult>;
  /** Releases the device (later solves fail with device_lost). */
  destroy(): void;
}

const DEFAULTS = { checkEvery: 16, innerTol: 1e-4, maxOuter: 40 } as const;

/**
 * Creates the WebGPU solver: pass `navigator.gpu` (undefined gives a webgpu_unavailable error).
 * Solves are serialised: one device queue, one solve at a time.
 */
export async function createWebGpuSolver(
  gpu: GPU | undefined | null,
  options: DeviceOptions = {},
): Promise<WebGpuSolver> {
  const ctx = await acquireGpu(gpu, options);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    adapter: ctx.adapter,
    limits: ctx.limits,
    counters: ctx.counters,
    get lost() {
      return ctx.isLost;
    },
    solve(a, b, opts) {
      const run = queue.then(() => solveOnce(ctx, a, b, opts));
      queue = run.catch(() => undefined);
      return run;
    },
    destroy() {
      ctx.destroy();
    },
  };
}

async function solveOnce(
  ctx: GpuContext,
  a: CsrMatrix,
  b: Float64Array,
  options: WebGpuSolveOptions,
): Promise<WebGpuSolveResult> {
  const t0 = performance.now();
  ctx.assertAlive();
  const numeric = parseNumericOptions({
    tol: options.tol,
    maxIter: options.maxIter,
    timeLimitMs: options.timeLimitMs,
    updateEvery: options.updateEvery,
    checkEvery: options.checkEvery,
    innerTol: options.innerTol,
    maxOuter: options.maxOuter,
  });
  validateSystem(a, b, options.x0);
  const choice = chooseMethod(a, options);
  const before = { ...ctx.counters };

  const matrix = await GpuMatrix.upload(ctx, a);
  let method: InnerMethod | null = null;
  let staging: GPUBuffer | null = null;
  try {
    method = await createMethod(ctx, a, matrix, choice);
    const inner = method;
    staging = await ctx.scoped("allocating the staging buffer", () =>
      ctx.device.createBuffer({
        label: "staging",
        size: HEADER_BYTES + a.rows * 4,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
    );
    const readback = staging;
    const out = await refine(a, b, (rhs, o) => runInner(ctx, inner, readback, a.rows, rhs, o), {
      tol: numeric.tol,
      maxIter: numeric.maxIter,
      maxOuter: numeric.maxOuter ?? DEFAULTS.maxOuter,
      innerTol: numeric.innerTol ?? DEFAULTS.innerTol,
      checkEvery: numeric.checkEvery ?? DEFAULTS.checkEvery,
      timeLimitMs: numeric.timeLimitMs,
      signal: options.signal,
      x0: options.x0,
      updateEvery: numeric.updateEvery,
      includeXPartial: options.includeXPartial,
      onUpdate: options.onUpdate,
      methodLabel: inner.label,
      flopsPerIteration: inner.flopsPerIteration,
      workingSetBytes: inner.workingSetBytes,
    });
    const c = ctx.counters;
    const dispatches = c.dispatches - before.dispatches;
    const loopDispatches = c.loopDispatches - before.loopDispatches;
    const readbacks = c.readbacks - before.readbacks;
    const perUseful = (count: number): number => (out.iterations > 0 ? count / out.iterations : 0);
    return {
      x: out.x,
      converged: out.converged,
      reason: out.reason,
      iterations: out.iterations,
      relResidual: out.relResidual,
      bestResidual: out.bestResidual,
      methodPath: [`${inner.label} f32 + f64 refinement`],
      stages: [
        {
          label: `${inner.label} f32 + f64 refinement`,
          reason: out.reason,
          iterations: out.iterations,
          bestResidual: out.bestResidual,
          note: `${out.outerIterations} refinement steps; inner stops: ${out.innerReasons.join(", ")}`,
        },
      ],
      backend: "webgpu",
      threads: 1,
      ms: performance.now() - t0,
      dispatches,
      readbacks,
      dispatchesPerIteration: out.encodedIterations > 0 ? loopDispatches / out.encodedIterations : 0,
      dispatchesPerUsefulIteration: perUseful(dispatches),
      readbacksPerIteration: perUseful(readbacks),
      encodedIterations: out.encodedIterations,
      outerIterations: out.outerIterations,
      innerReasons: out.innerReasons,
      rowBlocks: matrix.blocks.length,
      rowsPerInvocation: matrix.rowsPerInvocation,
      adapter: ctx.adapter,
    };
  } catch (e) {
    if (e instanceof WebGpuSolverError) throw e;
    // Anything WebGPU throws once the device is gone is reported as the loss it is; anything else (an
    // exception from the caller's onUpdate, say) goes back unchanged.
    if (ctx.isLost) throw await ctx.wrapGpuFailure(e, "solve");
    throw e;
  } finally {
    if (!ctx.isLost) {
      method?.destroy();
      staging?.destroy();
      matrix.destroy();
    }
  }
}

function createMethod(
  ctx: GpuContext,
  a: CsrMatrix,
  m: GpuMatrix,
  choice: MethodChoice,
): Promise<InnerMethod> {
  switch (choice.method) {
    case "cg":
      return createCgMethod(ctx, m, choice.dinv, choice.label);
    case "bicgstab":
      return createBicgstabMethod(ctx, m, choice.dinv, choice.label);
    case "jacobi":
      return createJacobiMethod(ctx, m, choice.dinv, choice.label);
    case "gauss_seidel":
      return createGaussSeidelMethod(ctx, a, m, choice.dinv, choice.label);
  }
}
