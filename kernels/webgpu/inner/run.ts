import type { GpuContext } from "../gpu-context.ts";
import { decodeHeader, HEADER_BYTES, STATUS } from "../shaders/layout.ts";
import type { InnerMethod } from "./method.ts";
import type { InnerOutcome, InnerReason, InnerRunOptions } from "./types.ts";

/**
 * Up to this size the iterate rides along with every header readback: a mapAsync round trip costs far more
 * than copying 64 KiB, and short solves then need no separate readback for their answer.
 */
const ALWAYS_COPY_X_BYTES = 64 * 1024;

/** A stationary iteration whose residual grew this much has diverged (it will not come back). */
const DIVERGENCE_FACTOR = 1e6;

/**
 * Runs one inner solve on the GPU: batches of `checkEvery` iterations per command buffer, one header
 * readback per batch. When the convergence rate seen so far predicts that the next batch will converge
 * (or x is small), the iterate is copied into the same staging buffer, so the answer costs no extra readback.
 */
export async function runInner(
  ctx: GpuContext,
  method: InnerMethod,
  staging: GPUBuffer,
  n: number,
  rhs: Float32Array,
  options: InnerRunOptions,
): Promise<InnerOutcome> {
  let rr0 = 0;
  for (let i = 0; i < rhs.length; i++) rr0 += rhs[i]! * rhs[i]!;
  const xBytes = n * 4;
  method.reset(rhs, rr0, options.tol * options.tol);

  let encoded = 0;
  let lastIter = 0;
  let lastRel = 1;
  let ratePerIter = Number.NaN;
  for (;;) {
    const batch = Math.min(options.checkEvery, options.maxIter - encoded);
    if (batch <= 0) return finish("max_iterations", lastIter, lastRel, null);
    const predictedRel = lastRel * Math.pow(ratePerIter, batch);
    const withX =
      xBytes <= ALWAYS_COPY_X_BYTES || (Number.isFinite(predictedRel) && predictedRel <= options.tol);

    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    method.encodeIterations(pass, batch, encoded === 0);
    method.encodeCheck(pass);
    pass.end();
    encoder.copyBufferToBuffer(method.state, 0, staging, 0, HEADER_BYTES);
    if (withX) encoder.copyBufferToBuffer(method.currentX(), 0, staging, HEADER_BYTES, xBytes);
    ctx.submit(encoder);
    encoded += batch;

    const data = await ctx.readStaging(staging, withX ? HEADER_BYTES + xBytes : HEADER_BYTES);
    const h = decodeHeader(data);
    const iterations = method.gpuStops ? h.iter : encoded;
    const rel = rr0 > 0 ? Math.sqrt(Math.max(h.rr, 0) / rr0) : 0;
    options.onCheck?.(iterations, rel);
    if (iterations > lastIter && lastRel > 0 && rel > 0) {
      ratePerIter = Math.pow(rel / lastRel, 1 / (iterations - lastIter));
    }
    lastIter = iterations;
    lastRel = rel;
    const x = withX ? new Float32Array(data.slice(HEADER_BYTES, HEADER_BYTES + xBytes)) : null;

    let reason: InnerReason | null = null;
    if (!Number.isFinite(h.rr) || (!method.gpuStops && rel > DIVERGENCE_FACTOR)) reason = "diverged";
    else if (method.gpuStops ? h.status === STATUS.CONVERGED : rel <= options.tol) reason = "converged";
    else if (h.status === STATUS.BREAKDOWN) reason = "breakdown";
    else if (options.signal?.aborted === true) reason = "cancelled";
    else if (performance.now() > options.deadlineMs) reason = "time_limit";
    else if (encoded >= options.maxIter) reason = "max_iterations";
    if (reason !== null) return finish(reason, iterations, rel, x);
  }

  async function finish(
    reason: InnerReason,
    iterations: number,
    relResidual: number,
    x: Float32Array | null,
  ): Promise<InnerOutcome> {
    return { x: x ?? (await readX()), reason, iterations, encoded, relResidual };
  }

  async function readX(): Promise<Float32Array> {
    const encoder = ctx.device.createCommandEncoder();
    encoder.copyBufferToBuffer(method.currentX(), 0, staging, HEADER_BYTES, xBytes);
    ctx.submit(encoder);
    const data = await ctx.readStaging(staging, HEADER_BYTES + xBytes);
    return new Float32Array(data.slice(HEADER_BYTES, HEADER_BYTES + xBytes));
  }
}
