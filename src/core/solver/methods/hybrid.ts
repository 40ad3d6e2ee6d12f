import { runBicgstab } from "./bicgstab.ts";
import { runCg } from "./cg.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { runDirect } from "./direct.ts";
import type { DirectLimits } from "./direct.ts";
import { SolverError } from "../errors.ts";
import { runGmres } from "./gmres.ts";
import { profileMatrix } from "../inspect.ts";
import type { MatrixProfile } from "../inspect.ts";
import type { StageReport, StopReason } from "../types.ts";

export interface StagePlan {
  kind: "cg" | "bicgstab" | "gmres";
  preconditioner: "jacobi" | "ic0" | "ilu0";
}

export interface HybridOptions {
  restart: number;
  direct: DirectLimits;
}

export interface HybridOutcome {
  reason: StopReason;
  stages: StageReport[];
}

/**
 * The iterative stages in the order the hybrid tries them:
 *  - symmetric with a positive diagonal (SPD-looking): CG+Jacobi (cheap, parallel), CG+IC(0) (stronger),
 *    then BiCGSTAB+ILU(0) in case A is in fact indefinite (on 494_bus it needed 65 iterations where
 *    GMRES(30)+ILU(0) stalled: restarted GMRES is weak on SPD problems);
 *  - nonsymmetric but diagonally dominant: BiCGSTAB+Jacobi, then GMRES+ILU(0), BiCGSTAB+ILU(0);
 *  - anything else: GMRES+ILU(0), then BiCGSTAB+ILU(0).
 * Direct LU (when n is small enough) comes after all of them.
 */
export function planStages(p: MatrixProfile): StagePlan[] {
  if (p.symmetric && p.positiveDiagonal) {
    return [
      { kind: "cg", preconditioner: "jacobi" },
      { kind: "cg", preconditioner: "ic0" },
      { kind: "bicgstab", preconditioner: "ilu0" },
    ];
  }
  if (p.diagonallyDominant && p.zeroDiagonals === 0) {
    return [
      { kind: "bicgstab", preconditioner: "jacobi" },
      { kind: "gmres", preconditioner: "ilu0" },
      { kind: "bicgstab", preconditioner: "ilu0" },
    ];
  }
  return [
    { kind: "gmres", preconditioner: "ilu0" },
    { kind: "bicgstab", preconditioner: "ilu0" },
  ];
}

function runStage(ctx: MethodContext, plan: StagePlan, restart: number): MethodOutcome {
  switch (plan.kind) {
    case "cg":
      return runCg(ctx, plan.preconditioner === "ilu0" ? "jacobi" : plan.preconditioner);
    case "bicgstab":
      return runBicgstab(ctx, plan.preconditioner);
    case "gmres":
      return runGmres(ctx, restart, plan.preconditioner);
  }
}

/**
 * Continue from whichever is better by its TRUE residual: the current iterate or the best one the monitor
 * kept (a diverging stage leaves x far worse than its best). Never restarts from zero.
 */
function continueFromBest(ctx: MethodContext): void {
  const { monitor, x } = ctx;
  if (!(monitor.bestXRel < Infinity)) return;
  const saved = ctx.vec(0);
  const r = ctx.vec(1);
  const current = ctx.trueRel(r);
  saved.set(x);
  x.set(monitor.bestX);
  const best = ctx.trueRel(r);
  if (!(best < current)) x.set(saved);
}

/** Stops that end the whole solve rather than the stage. */
function isFinal(reason: StopReason): boolean {
  return reason === "converged" || reason === "cancelled" || reason === "time_limit";
}

/**
 * Hybrid ("auto"): profile A, run the planned stages while the monitor watches for stagnation and
 * divergence, switch on failure continuing from the best iterate (each method starts from r = b − A x, i.e.
 * solves for the correction), and finish with a direct LU correction plus refinement when n allows.
 */
export function runHybrid(ctx: MethodContext, options: HybridOptions): HybridOutcome {
  const { monitor } = ctx;
  const stages: StageReport[] = [];
  const push = (o: MethodOutcome, before: number): void => {
    const s: StageReport = {
      label: o.label,
      reason: o.reason,
      iterations: monitor.iterations - before,
      bestResidual: monitor.bestRel,
    };
    if (o.note !== undefined) s.note = o.note;
    stages.push(s);
  };
  const profile = profileMatrix(ctx.a);
  let reason: StopReason = "max_iterations";
  for (const plan of planStages(profile)) {
    if (monitor.budgetLeft <= 0) break;
    if (stages.length > 0) continueFromBest(ctx);
    const before = monitor.iterations;
    const outcome = runStage(ctx, plan, options.restart);
    push(outcome, before);
    reason = outcome.reason;
    if (isFinal(reason)) return { reason, stages };
  }
  if (ctx.n > options.direct.maxN) {
    const note = `direct skipped: n = ${ctx.n} > ${options.direct.maxN}`;
    stages.push({ label: "direct", reason, iterations: 0, bestResidual: monitor.bestRel, note });
    return { reason, stages };
  }
  if (stages.length > 0) continueFromBest(ctx);
  const before = monitor.iterations;
  try {
    const outcome = runDirect(ctx, options.direct);
    push(outcome, before);
    return { reason: outcome.reason, stages };
  } catch (e) {
    if (!(e instanceof SolverError)) throw e;
    stages.push({ label: "direct", reason, iterations: 0, bestResidual: monitor.bestRel, note: e.message });
    return { reason, stages };
  }
}
