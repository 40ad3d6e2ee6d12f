import type { CsrMatrix } from "../sparse/csr.ts";
import { runBicgstab } from "./methods/bicgstab.ts";
import { runCg } from "./methods/cg.ts";
import { relativeResidual } from "./certificate.ts";
import { MethodContext } from "./methods/context.ts";
import type { MethodOutcome } from "./methods/context.ts";
import { DEFAULT_DIRECT_MAX_FILL, DEFAULT_DIRECT_MAX_N, runDirect } from "./methods/direct.ts";
import { runGaussSeidel } from "./methods/gauss-seidel.ts";
import { runGmres } from "./methods/gmres.ts";
import { runHybrid } from "./methods/hybrid.ts";
import { LiveUpdates } from "./updates/live.ts";
import { createJsKernels } from "./js-kernels.ts";
import { runJacobi } from "./methods/jacobi.ts";
import type { Kernels } from "./kernels.ts";
import { IterationMonitor } from "./monitor.ts";
import type { SolveOptions, SolveResult, StageReport, StopReason } from "./types.ts";
import { SolverError } from "./errors.ts";
import { singularityOf } from "./singularity.ts";
import { validateSolveInput } from "./validate.ts";

export const DEFAULT_RESTART = 30;
export const DEFAULT_UPDATE_EVERY = 10;
/**
 * Jacobi-PCG on the SuiteSparse test set (494_bus, bcsstk13, dwt_878) went up to 250 iterations without
 * halving its best residual and still converged; 400 leaves room while still cutting a hopeless stage short.
 */
export const HYBRID_STAGNATION_WINDOW = 400;

const now = (): number => performance.now();

/**
 * The one stage of a solve with b = 0: x = 0 is exact for any A, so nothing iterates, and the path says why
 * instead of staying empty (an empty path read as "converged in 0 iterations at rate NaN").
 */
export const ZERO_RHS_STAGE: Readonly<StageReport> = {
  label: "b = 0, so x = 0",
  reason: "converged",
  iterations: 0,
  bestResidual: 0,
  note: "the right-hand side is zero, so x = 0 solves A x = b exactly for any A: no iteration was needed",
};

function isZero(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) return false;
  return true;
}

/** ‖b‖ when it is outside [1e-100, 1e100] (then the solve runs on b/‖b‖), else 1. */
function safeScale(b: Float64Array): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(b[i]!));
  if (max === 0 || (max > 1e-100 && max < 1e100)) return 1;
  let s = 0;
  for (let i = 0; i < b.length; i++) s += (b[i]! / max) * (b[i]! / max);
  return max * Math.sqrt(s);
}

function runMethod(ctx: MethodContext, o: SolveOptions): { reason: StopReason; stages: StageReport[] } {
  const direct = {
    maxN: o.directMaxN ?? DEFAULT_DIRECT_MAX_N,
    maxFill: o.directMaxFill ?? DEFAULT_DIRECT_MAX_FILL,
    ...(o.directOrdering ? { ordering: o.directOrdering } : {}),
  };
  const restart = o.restart ?? DEFAULT_RESTART;
  const before = ctx.monitor.iterations;
  let outcome: MethodOutcome;
  switch (o.method) {
    case "hybrid":
    case "auto":
      return runHybrid(ctx, { restart, direct });
    case "jacobi":
      outcome = runJacobi(ctx, o.relaxation ?? 1);
      break;
    case "gauss_seidel":
      outcome = runGaussSeidel(ctx, o.relaxation ?? 1, o.gsVariant ?? "sequential");
      break;
    case "cg":
      outcome = runCg(
        ctx,
        o.preconditioner === "ic0" || o.preconditioner === "none" ? o.preconditioner : "jacobi",
      );
      break;
    case "bicgstab":
      outcome = runBicgstab(ctx, o.preconditioner ?? "jacobi");
      break;
    case "gmres":
      outcome = runGmres(ctx, restart, o.preconditioner ?? "ilu0");
      break;
    case "direct":
      outcome = runDirect(ctx, direct);
      break;
  }
  const stage: StageReport = {
    label: outcome.label,
    reason: outcome.reason,
    iterations: ctx.monitor.iterations - before,
    bestResidual: ctx.monitor.bestRel,
  };
  if (outcome.note !== undefined) stage.note = outcome.note;
  return { reason: outcome.reason, stages: [stage] };
}

/**
 * Solve A x = b with the requested method on `kernels` (default: fresh js kernels, disposed at the end; a
 * caller-supplied backend is left for the caller to dispose). Synchronous: run it in a worker. Bad input
 * throws a SolverError with a code; a method that does not converge returns converged:false with its
 * reason, the best residual and the path taken. `relResidual` is always recomputed independently.
 */
export function solve(a: CsrMatrix, b: Float64Array, options: SolveOptions, kernels?: Kernels): SolveResult {
  validateSolveInput(a, b, options);
  // b = 0 answers x = 0 whatever A is (below); otherwise a provably singular A is an error that names why.
  const singular = isZero(b) ? null : singularityOf(a);
  if (singular !== null) throw new SolverError("singular_matrix", singular);
  const start = now();
  const k = kernels ?? createJsKernels();
  try {
    const n = a.rows;
    const hybrid = options.method === "hybrid" || options.method === "auto";
    // Solve for x/s with b/s when ‖b‖ is extreme, so squared norms in the kernels neither under- nor overflow.
    const bScale = safeScale(b);
    const monitor = new IterationMonitor({
      n,
      tol: options.tol,
      maxIter: options.maxIter,
      updateEvery: options.updateEvery ?? DEFAULT_UPDATE_EVERY,
      includeXPartial: options.includeXPartial ?? false,
      onUpdate: options.onUpdate,
      signal: options.signal,
      deadlineMs: options.timeLimitMs === undefined ? Infinity : start + options.timeLimitMs,
      now,
      stagnationWindow: options.stagnationWindow ?? (hybrid ? HYBRID_STAGNATION_WINDOW : 1000),
      stagnationFactor: options.stagnationFactor ?? (hybrid ? 0.5 : 0.99),
      divergenceFactor: options.divergenceFactor ?? (hybrid ? 1e4 : 1e8),
      xScale: bScale,
    });
    const kb = k.vector(n);
    kb.set(b);
    const kx = k.vector(n);
    if (options.x0 !== undefined) kx.set(options.x0);
    else kx.fill(0);
    if (bScale !== 1) {
      for (let i = 0; i < n; i++) {
        kb[i] = kb[i]! / bScale;
        kx[i] = kx[i]! / bScale;
      }
    }
    const ctx = new MethodContext(k, a, k.matrix(a), kb, kx, options.tol, monitor);
    // Updates of A and b while the solve runs (updates/live.ts); null without options.liveUpdates.
    const live =
      options.liveUpdates === undefined
        ? null
        : new LiveUpdates(options.liveUpdates, k, ctx, b, bScale, options.signal);
    const runOnce = (c: MethodContext): { reason: StopReason; stages: StageReport[] } => {
      if (c.bNorm === 0) {
        c.x.fill(0); // b = 0: x = 0 is the exact answer, whatever the method
        return { reason: "converged", stages: [{ ...ZERO_RHS_STAGE }] };
      }
      if (options.signal?.aborted === true) return { reason: "cancelled", stages: [] };
      return runMethod(c, options);
    };
    const run = live === null ? runOnce(ctx) : live.drive(ctx, runOnce);
    // The certificate is for the system x now solves: the updated one after live updates.
    const { a: finalA, b: finalB } = live?.system ?? { a, b };

    let x = kx.slice();
    if (bScale !== 1) {
      for (let i = 0; i < n; i++) x[i] = x[i]! * bScale;
      for (let i = 0; i < n; i++) monitor.bestX[i] = monitor.bestX[i]! * bScale;
    }
    let relResidual = relativeResidual(finalA, x, finalB);
    // A failed run hands back its best iterate, judged by the certificate, not by the tracked residual.
    if (!(relResidual <= options.tol) && monitor.bestXRel < Infinity) {
      const alt = monitor.bestX.slice();
      const altRel = relativeResidual(finalA, alt, finalB);
      if (altRel < relResidual || Number.isNaN(relResidual)) {
        x = alt;
        relResidual = altRel;
      }
    }
    // Reported best residual = certificate of the x we return (the best we can hand back, verified):
    // a tracked estimate (e.g. GMRES's Givens residual under a poor preconditioner) can be optimistic.
    const bestResidual = relResidual;
    const converged = relResidual <= options.tol;
    // The certificate is the arbiter: a method's "converged" that the certificate denies is reported as
    // stagnation; a stop for any other reason that happens to satisfy the certificate counts as converged.
    let reason: StopReason = run.reason;
    if (converged) reason = "converged";
    else if (reason === "converged") reason = "stagnated";
    monitor.finish(relResidual, x);
    const result: SolveResult = {
      x,
      converged,
      reason,
      iterations: monitor.iterations,
      relResidual,
      bestResidual,
      methodPath: run.stages.map((s) => s.label),
      backend: k.backend,
      threads: k.threads,
      ms: now() - start,
      stages: run.stages,
    };
    if (live !== null) result.updates = live.report(monitor);
    return result;
  } finally {
    if (kernels === undefined) k.dispose();
  }
}
