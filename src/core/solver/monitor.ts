import type { IterationUpdate, StopReason } from "./types.ts";

/**
 * `step` keeps a new best iterate only when its tracked residual beats the kept one by this factor, or when
 * the stage's snapshot interval has passed (see snapshotInterval). So the kept iterate's tracked residual
 * is always within 1/SNAPSHOT_IMPROVEMENT of the best tracked residual of any iterate `step` saw, and the
 * copies this rule alone triggers number at most log2(first residual / last residual) over the solve.
 */
export const SNAPSHOT_IMPROVEMENT = 0.5;
/** Share of an iteration's cost the best-iterate copies may add on average (see snapshotInterval). */
export const SNAPSHOT_COST_BUDGET = 0.02;
/**
 * A copy of x (read n f64, write n f64, plus the write-allocate read) moves about 24n bytes; the methods'
 * streaming kernels move about 7 bytes per counted flop (Jacobi-PCG on a 5-point grid: ~168n bytes for
 * 24n flops). So one copy costs about as much as 3.5n flops of an iteration; rounded up.
 */
const SNAPSHOT_FLOP_EQUIVALENT_PER_ENTRY = 4;

/**
 * Iterations between periodic best-iterate copies so that they cost at most SNAPSHOT_COST_BUDGET of the
 * iterations in between: 9 for Jacobi-PCG on a 5-point grid, 2 for GMRES(30). 1 (copy on every
 * improvement) when the stage did not say what an iteration costs.
 */
export function snapshotInterval(n: number, flopsPerIter: number): number {
  if (!(flopsPerIter > 0)) return 1;
  return Math.max(
    1,
    Math.ceil((SNAPSHOT_FLOP_EQUIVALENT_PER_ENTRY * n) / (SNAPSHOT_COST_BUDGET * flopsPerIter)),
  );
}

/** What a running stage tells the monitor about itself (for streaming updates and reports). */
export interface StageInfo {
  label: string;
  /** Estimated floating-point operations per iteration (2 per multiply-add). */
  flopsPerIter: number;
  /** Working set: matrix + preconditioner + work vectors, in bytes. */
  memoryBytes: number;
}

export interface MonitorConfig {
  n: number;
  tol: number;
  maxIter: number;
  updateEvery: number;
  includeXPartial: boolean;
  onUpdate: ((update: IterationUpdate) => void) | undefined;
  signal: AbortSignal | undefined;
  /** Absolute deadline on the `now()` clock (Infinity for none). */
  deadlineMs: number;
  now: () => number;
  stagnationWindow: number;
  stagnationFactor: number;
  divergenceFactor: number;
  /** Streamed x_partial is multiplied by this (solve() may iterate on a scaled system). */
  xScale: number;
}

/**
 * Every iteration of every method passes through `step()`: it counts iterations (globally, across the
 * stages of a hybrid solve), keeps a best iterate, streams updates, and decides whether to stop
 * (cancelled, time limit, iteration budget, divergence, stagnation). Methods decide convergence
 * themselves (they verify the true residual before believing a recursive one).
 *
 * The best iterate is a snapshot, not a copy per iteration: an O(n) copy on every improving iteration
 * cost 10-15% of a Jacobi-PCG iteration. `record` (true residuals, rare) always keeps an improvement;
 * `step` keeps one when it halves the kept residual or when the stage's snapshot interval has passed.
 * Whoever reads bestX also weighs the current x by its true residual (solve's final pick, the hybrid's
 * continueFromBest), so an improvement between snapshots that is still the current iterate is not lost.
 */
export class IterationMonitor {
  readonly config: MonitorConfig;
  /** Global iteration count (all stages). */
  iterations = 0;
  /** Best tracked relative residual (any stage, with or without an iterate). */
  bestRel = Infinity;
  /**
   * Best kept iterate and its tracked residual (within 1/SNAPSHOT_IMPROVEMENT of the best tracked residual
   * of any iterate seen); hybrid continues from it after a failed stage, solve returns it when better.
   */
  readonly bestX: Float64Array;
  bestXRel = Infinity;
  /** Iteration of the last copy into bestX, and the current stage's interval between periodic copies. */
  private snapshotIter = 0;
  private snapshotEvery = 1;
  lastRel = Infinity;
  private stage: StageInfo = { label: "", flopsPerIter: 0, memoryBytes: 0 };
  private stageStartIter = 0;
  /** Best tracked residual of the current stage: divergence is judged against it (see step). */
  private stageBest = Infinity;
  private windowRef = Infinity;
  private windowStartIter = 0;
  private lastUpdateIter = 0;
  private lastUpdateRel = Infinity;
  private lastUpdateMs: number;
  /**
   * Live updates (updates/live.ts): asked at every step; true means a validated update of A or b is
   * ready, and `step` then stops the stage with "cancelled" so the solve can apply it and restart the
   * method from the current x. The solve tells this apart from a user's cancel by the signal.
   */
  interruptForUpdate: (() => boolean) | null = null;
  /** The iteration budget of the current system (maxIter counts from the last applied update). */
  private budgetEnd: number;

  constructor(config: MonitorConfig) {
    this.config = config;
    this.bestX = new Float64Array(config.n);
    this.lastUpdateMs = config.now();
    this.budgetEnd = config.maxIter;
  }

  /** Iterations left on the current system's budget (the hybrid stops planning stages at 0). */
  get budgetLeft(): number {
    return this.budgetEnd - this.iterations;
  }

  /**
   * A and/or b changed under a running solve: what was "best" belongs to the old system, so forget it, and
   * give the new system a fresh budget of maxIter iterations. The iteration count goes on (the chart
   * continues across the update).
   */
  newSystem(): void {
    this.bestRel = Infinity;
    this.bestXRel = Infinity;
    this.lastRel = Infinity;
    this.lastUpdateRel = Infinity;
    this.budgetEnd = this.iterations + this.config.maxIter;
  }

  get stageLabel(): string {
    return this.stage.label;
  }

  get stageIterations(): number {
    return this.iterations - this.stageStartIter;
  }

  beginStage(info: StageInfo): void {
    this.stage = info;
    this.stageStartIter = this.iterations;
    this.stageBest = Infinity;
    this.windowRef = Infinity;
    this.windowStartIter = this.iterations;
    this.snapshotEvery = snapshotInterval(this.config.n, info.flopsPerIter);
  }

  private snapshot(rel: number, x: Float64Array): void {
    this.bestXRel = rel;
    this.bestX.set(x);
    this.snapshotIter = this.iterations;
  }

  /** Record an iterate with a known (true) residual without counting an iteration. */
  record(rel: number, x: Float64Array): void {
    this.lastRel = rel;
    if (rel < this.bestRel) this.bestRel = rel;
    if (rel < this.stageBest) this.stageBest = rel;
    if (rel < this.bestXRel) this.snapshot(rel, x);
    if (this.lastUpdateRel === Infinity) this.lastUpdateRel = rel;
  }

  /**
   * One iteration done; `rel` is the method's tracked ‖r‖/‖b‖ of its current iterate. `x` is that iterate
   * when the method holds it (null for GMRES inner steps, whose iterate `materialize` can form on demand).
   * Returns a stop reason, "converged" when rel ≤ tol, or null to go on.
   */
  step(rel: number, x: Float64Array | null, materialize?: () => Float64Array): StopReason | null {
    const c = this.config;
    this.iterations++;
    this.lastRel = rel;
    const finite = Number.isFinite(rel);
    if (finite && rel < this.bestRel) this.bestRel = rel;
    if (finite && rel < this.stageBest) this.stageBest = rel;
    if (
      finite &&
      x !== null &&
      rel < this.bestXRel &&
      (rel <= SNAPSHOT_IMPROVEMENT * this.bestXRel ||
        this.iterations - this.snapshotIter >= this.snapshotEvery)
    ) {
      this.snapshot(rel, x);
    }
    if (c.onUpdate !== undefined && this.iterations % c.updateEvery === 0) {
      // Forming GMRES's iterate costs a correction and a preconditioner apply: only when x_partial is asked.
      const materialized =
        c.includeXPartial && x === null && materialize !== undefined ? materialize() : null;
      this.emit(rel, x ?? materialized);
    }
    if (finite && rel <= c.tol) return "converged";
    if (c.signal?.aborted === true) return "cancelled";
    if (this.interruptForUpdate?.() === true) return "cancelled";
    if (c.deadlineMs !== Infinity && c.now() > c.deadlineMs) return "time_limit";
    // Against the stage's own best: an earlier stage's estimate (GMRES's Givens residual can be optimistic
    // with a poor preconditioner) must not make the next stage look divergent on its first step.
    if (!finite || rel > c.divergenceFactor * this.stageBest) return "diverged";
    if (rel < c.stagnationFactor * this.windowRef) {
      this.windowRef = rel;
      this.windowStartIter = this.iterations;
    } else if (this.iterations - this.windowStartIter >= c.stagnationWindow) {
      return "stagnated";
    }
    if (this.iterations >= this.budgetEnd) return "max_iterations";
    return null;
  }

  /**
   * Count an iteration that is not part of an iterative method's budget (direct solve, refinement step):
   * tracks the best iterate and streams an update when due, but never asks to stop.
   */
  tick(rel: number, x: Float64Array): void {
    this.iterations++;
    this.record(rel, x);
    if (this.config.onUpdate !== undefined && this.iterations % this.config.updateEvery === 0)
      this.emit(rel, x);
  }

  /** True when cancellation or the time limit says stop now (for steps outside `step`, e.g. direct). */
  interrupted(): StopReason | null {
    if (this.config.signal?.aborted === true) return "cancelled";
    if (this.config.now() > this.config.deadlineMs) return "time_limit";
    return null;
  }

  /** Final update after the solve (always sent when a listener exists); `x` is the caller's final answer. */
  finish(rel: number, x: Float64Array): void {
    if (this.config.onUpdate !== undefined) this.emit(rel, x, 1);
  }

  private emit(rel: number, x: Float64Array | null, xScale = this.config.xScale): void {
    const c = this.config;
    const now = c.now();
    const iters = Math.max(1, this.iterations - this.lastUpdateIter);
    const prev = this.lastUpdateRel;
    const rate = prev > 0 && Number.isFinite(prev) && rel >= 0 ? Math.pow(rel / prev, 1 / iters) : NaN;
    const update: IterationUpdate = {
      type: "iteration_update",
      method: this.stage.label,
      iteration: this.iterations,
      residual_norm: rel,
      convergence_rate: rate,
      performance: {
        iteration_time_ms: (now - this.lastUpdateMs) / iters,
        flops: this.stage.flopsPerIter,
        memory_bytes: this.stage.memoryBytes,
      },
    };
    if (c.includeXPartial && x !== null) {
      const copy = x.slice();
      if (xScale !== 1) for (let i = 0; i < copy.length; i++) copy[i] = copy[i]! * xScale;
      update.x_partial = copy;
    }
    this.lastUpdateIter = this.iterations;
    this.lastUpdateRel = rel;
    this.lastUpdateMs = now;
    c.onUpdate?.(update);
  }
}
