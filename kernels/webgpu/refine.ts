import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { relativeResidual } from "../../src/core/solver/certificate.ts";
import { multiply } from "../../src/core/sparse/ops.ts";
import type { IterationUpdate, StopReason } from "../../src/core/solver/types.ts";
import type { InnerReason, InnerSolveFn } from "./inner/types.ts";

export interface RefineOptions {
  tol: number;
  /** Budget of inner iterations over all refinement steps. */
  maxIter: number;
  maxOuter: number;
  /** Relative residual reduction asked of each f32 inner solve (f32 cannot promise much below 1e-5). */
  innerTol: number;
  checkEvery: number;
  timeLimitMs?: number | undefined;
  signal?: AbortSignal | undefined;
  x0?: Float64Array | undefined;
  updateEvery?: number | undefined;
  includeXPartial?: boolean | undefined;
  onUpdate?: ((update: IterationUpdate) => void) | undefined;
  /** Name in updates, e.g. "cg+jacobi". */
  methodLabel: string;
  flopsPerIteration: number;
  /** GPU memory held by the solve (IterationUpdate.performance.memory_bytes). */
  workingSetBytes: number;
}

export interface RefineOutcome {
  x: Float64Array;
  converged: boolean;
  reason: StopReason;
  /** Inner iterations that did work, summed over refinement steps. */
  iterations: number;
  /** Inner iterations encoded (>= iterations). */
  encodedIterations: number;
  outerIterations: number;
  /** Certificate: ‖b − Ax‖/‖b‖ recomputed in f64 from the returned x. */
  relResidual: number;
  bestResidual: number;
  innerReasons: InnerReason[];
}

/** A refinement step that improves the f64 residual by less than this factor counts as a stall. */
const STALL_FACTOR = 0.5;
const MAX_STALLS = 3;

/**
 * Mixed-precision iterative refinement: the residual r = b − Ax and the iterate x live in f64 on the CPU;
 * each step solves A d ≈ r/‖r‖ in f32 (inner solver, GPU) and adds ‖r‖·d to x. An f32 inner solve that
 * reduces the true residual by a factor η < 1 gives an f64 answer after about log(tol)/log(η) steps.
 * A step that does not lower the f64 residual is rejected and ends the solve (then converged is false and
 * the best x is returned with its residual).
 */
export async function refine(
  a: CsrMatrix,
  b: Float64Array,
  inner: InnerSolveFn,
  o: RefineOptions,
): Promise<RefineOutcome> {
  const t0 = performance.now();
  const deadlineMs = o.timeLimitMs === undefined ? Number.POSITIVE_INFINITY : t0 + o.timeLimitMs;
  const n = a.rows;
  const bNorm = norm2(b);
  let x = o.x0 === undefined || bNorm === 0 ? new Float64Array(n) : Float64Array.from(o.x0);
  let r = residual(a, x, b);
  let res = bNorm === 0 ? 0 : norm2(r) / bNorm;
  const innerReasons: InnerReason[] = [];
  let iterations = 0;
  let encodedIterations = 0;
  let outer = 0;
  let stalls = 0;
  let reason: StopReason;

  // Streaming: residual estimates at readbacks, the f64 residual after each refinement step.
  let lastEmitIter = 0;
  let lastEmitRes = res;
  let lastEmitMs = t0;
  const emit = (iteration: number, estimate: number, withX: boolean): void => {
    if (o.onUpdate === undefined) return;
    const steps = Math.max(iteration - lastEmitIter, 1);
    const now = performance.now();
    const update: IterationUpdate = {
      type: "iteration_update",
      method: o.methodLabel,
      iteration,
      residual_norm: estimate,
      convergence_rate: lastEmitRes > 0 && estimate > 0 ? Math.pow(estimate / lastEmitRes, 1 / steps) : 0,
      performance: {
        iteration_time_ms: (now - lastEmitMs) / steps,
        flops: o.flopsPerIteration,
        memory_bytes: o.workingSetBytes,
      },
    };
    if (withX && o.includeXPartial === true) update.x_partial = x.slice();
    lastEmitIter = iteration;
    lastEmitRes = estimate;
    lastEmitMs = now;
    o.onUpdate(update);
  };

  for (;;) {
    if (res <= o.tol) {
      reason = "converged";
      break;
    }
    if (o.signal?.aborted === true) {
      reason = "cancelled";
      break;
    }
    if (performance.now() > deadlineMs) {
      reason = "time_limit";
      break;
    }
    if (encodedIterations >= o.maxIter) {
      reason = "max_iterations";
      break;
    }
    if (outer >= o.maxOuter) {
      reason = "stagnated";
      break;
    }
    const scale = norm2(r);
    const rhs = Float32Array.from(r, (v) => v / scale);
    // Ask only for the reduction still needed (with a safety factor: f32 recursion overestimates progress).
    const innerTol = Math.min(0.5, Math.max(o.innerTol, (0.3 * o.tol) / res));
    const resAtStart = res;
    const itersBefore = iterations;
    const out = await inner(rhs, {
      tol: innerTol,
      maxIter: o.maxIter - encodedIterations,
      checkEvery: o.checkEvery,
      signal: o.signal,
      deadlineMs,
      onCheck: (it, rel) => {
        if (itersBefore + it - lastEmitIter >= (o.updateEvery ?? 1))
          emit(itersBefore + it, resAtStart * rel, false);
      },
    });
    outer++;
    iterations += out.iterations;
    encodedIterations += out.encoded;
    innerReasons.push(out.reason);

    const xTrial = new Float64Array(n);
    for (let i = 0; i < n; i++) xTrial[i] = x[i]! + scale * out.x[i]!;
    const rTrial = residual(a, xTrial, b);
    const resTrial = norm2(rTrial) / bNorm;
    if (!(resTrial < res)) {
      // NaN lands here too. The step is rejected: the solve keeps the best x it had.
      reason = rejectedReason(out.reason, resTrial, res);
      break;
    }
    stalls = resTrial > STALL_FACTOR * res ? stalls + 1 : 0;
    x = xTrial;
    r = rTrial;
    res = resTrial;
    emit(iterations, res, true);
    if (out.reason === "cancelled" || out.reason === "time_limit") {
      reason = res <= o.tol ? "converged" : out.reason;
      break;
    }
    if (stalls >= MAX_STALLS && res > o.tol) {
      reason = "stagnated";
      break;
    }
  }
  const relResidual = relativeResidual(a, x, b);
  return {
    x,
    converged: reason === "converged" && relResidual <= o.tol,
    reason,
    iterations,
    encodedIterations,
    outerIterations: outer,
    relResidual,
    bestResidual: res,
    innerReasons,
  };
}

function rejectedReason(inner: InnerReason, resTrial: number, res: number): StopReason {
  if (!Number.isFinite(resTrial) || resTrial > 100 * res || inner === "diverged") return "diverged";
  // The inner solve claims success yet the f64 residual did not drop: f32 has reached its limit.
  if (inner === "converged") return "stagnated";
  return inner;
}

function residual(a: CsrMatrix, x: Float64Array, b: Float64Array): Float64Array {
  const r = multiply(a, x);
  for (let i = 0; i < r.length; i++) r[i] = b[i]! - r[i]!;
  return r;
}

function norm2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}
