import type { CsrMatrix } from "../../sparse/csr.ts";
import type { MethodContext } from "../methods/context.ts";
import { isSolverError, SolverError } from "../errors.ts";
import { applyUpdates } from "./patch.ts";
import type { LiveUpdateEvent, LiveUpdateOptions, UpdatesReport } from "./source.ts";
import type { KernelMatrix, Kernels } from "../kernels.ts";
import type { IterationMonitor } from "../monitor.ts";
import type { StageReport, StopReason } from "../types.ts";

/** A validated update, ready to swap in at the next iteration boundary. */
interface Prepared {
  seq: number;
  a: CsrMatrix;
  ka: KernelMatrix;
  b: Float64Array;
  matrixEntries: number;
  rhsEntries: number;
  newEntries: number;
}

export interface RunOutcome {
  reason: StopReason;
  stages: StageReport[];
}

/**
 * Updates of A and b applied to a running solve (solve() creates one when `options.liveUpdates` is set).
 *
 * At every iteration the monitor asks `interruptForUpdate`: when the source has a batch, it is validated
 * and prepared right there (applyUpdates copies A's values, O(nnz); the kernels get the new matrix). An
 * invalid batch is rejected with its SolverError code and the iteration simply goes on: the running solve
 * is untouched. A valid one stops the stage; `drive` then rewrites b in place, swaps the matrix, forgets the
 * old system's best iterate and restarts the method from the current x. Every method starts from
 * r = b − A x and builds its preconditioner from the matrix it is given, so the restart is warm and the
 * preconditioner is refactored (also after an rhs-only change, where it could have been kept: the
 * restart reuses the method's setup path rather than a second one). The hybrid re-inspects the updated
 * matrix (an update may break symmetry), so it plans its stages again, from the current x.
 *
 * A batch that arrives after the method's last iteration is still applied (the solve goes on) until the
 * source is closed; closing is atomic with posting (see mailbox.ts), so a batch is either
 * applied (or rejected) by this solve, or refused to the poster, never lost.
 */
export class LiveUpdates {
  private a: CsrMatrix;
  private b: Float64Array;
  private ka: KernelMatrix;
  private ready: Prepared | null = null;
  private readonly events: LiveUpdateEvent[] = [];
  private applied = 0;
  private rejected = 0;
  private lastIteration: number | null = null;
  private warmStart: number | null = null;

  constructor(
    private readonly options: LiveUpdateOptions,
    private readonly kernels: Kernels,
    ctx: MethodContext,
    b: Float64Array,
    /** solve() iterates on b / bScale when ‖b‖ is extreme: updated b values are scaled the same way. */
    private readonly bScale: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.a = ctx.a;
    this.ka = ctx.ka;
    this.b = b;
    ctx.monitor.interruptForUpdate = () =>
      this.ready !== null || (options.source.pending() && this.prepare(ctx.monitor));
  }

  /** The system the current x is being solved for (unscaled). */
  get system(): { a: CsrMatrix; b: Float64Array } {
    return { a: this.a, b: this.b };
  }

  /** Runs `runOnce`, and again on the updated system after each applied update, until none is left. */
  drive(first: MethodContext, runOnce: (ctx: MethodContext) => RunOutcome): RunOutcome {
    let ctx = first;
    const stages: StageReport[] = [];
    for (;;) {
      const run = runOnce(ctx);
      stages.push(...run.stages);
      const userStop =
        run.reason === "time_limit" || (run.reason === "cancelled" && this.signal?.aborted === true);
      if (userStop) {
        this.closeRejecting(run.reason);
        return { reason: run.reason, stages };
      }
      if (this.ready === null && !this.takeLast(ctx.monitor)) return { reason: run.reason, stages };
      const last = stages[stages.length - 1];
      if (last !== undefined && run.reason === "cancelled") {
        const why = `interrupted at iteration ${ctx.monitor.iterations} to apply an update`;
        last.note = last.note === undefined ? why : `${last.note}; ${why}`;
      }
      ctx = this.apply(ctx);
    }
  }

  report(monitor: IterationMonitor): UpdatesReport {
    return {
      applied: this.applied,
      rejected: this.rejected,
      iterationsSinceLastUpdate: monitor.iterations - (this.lastIteration ?? 0),
      lastUpdateIteration: this.lastIteration,
      warmStartResidual: this.warmStart,
      events: this.events,
      system: this.system,
    };
  }

  private emit(event: LiveUpdateEvent): void {
    this.events.push(event);
    this.options.onEvent?.(event);
  }

  private reject(seq: number, iteration: number, code: string, message: string): void {
    this.rejected++;
    this.emit({ type: "update_rejected", seq, iteration, code, message });
  }

  /** Takes and validates the waiting batch; false (after a rejection event) when it is invalid. */
  private prepare(monitor: IterationMonitor): boolean {
    const batch = this.options.source.take();
    if (batch === null) return false;
    const matrixEntries = batch.updates.matrix?.length ?? 0;
    const rhsEntries = batch.updates.rhs?.length ?? 0;
    try {
      const sys = applyUpdates(this.a, this.b, batch.updates);
      let a = this.a;
      let ka = this.ka;
      if (matrixEntries > 0) {
        a = sys.a;
        try {
          ka = this.kernels.matrix(a);
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          throw new SolverError(
            "update_backend",
            `the ${this.kernels.backend} kernels refused the matrix: ${why}`,
          );
        }
      }
      this.ready = { seq: batch.seq, a, ka, b: sys.b, matrixEntries, rhsEntries, newEntries: sys.newEntries };
      return true;
    } catch (e) {
      if (!isSolverError(e)) throw e;
      this.reject(batch.seq, monitor.iterations, e.code, e.message.replace(`${e.code}: `, ""));
      return false;
    }
  }

  /** After the method returned: a batch that is waiting now is still applied; else close the source. */
  private takeLast(monitor: IterationMonitor): boolean {
    const source = this.options.source;
    for (;;) {
      if (source.pending()) {
        if (this.prepare(monitor)) return true;
        continue;
      }
      if (source.close()) return false;
    }
  }

  /** Cancelled or out of time: what was posted is refused, so its poster knows it was not applied. */
  private closeRejecting(reason: StopReason): void {
    const message = `the solve stopped (${reason}) before this update could be applied`;
    if (this.ready !== null)
      this.reject(this.ready.seq, this.lastIteration ?? 0, "update_not_applied", message);
    this.ready = null;
    const source = this.options.source;
    while (!source.close()) {
      const batch = source.take();
      if (batch !== null) this.reject(batch.seq, this.lastIteration ?? 0, "update_not_applied", message);
    }
  }

  private apply(ctx: MethodContext): MethodContext {
    const p = this.ready!;
    this.ready = null;
    const { monitor, x } = ctx;
    const residualBefore = monitor.lastRel;
    const kb = ctx.b;
    kb.set(p.b);
    if (this.bScale !== 1) for (let i = 0; i < kb.length; i++) kb[i] = kb[i]! / this.bScale;
    this.a = p.a;
    this.ka = p.ka;
    this.b = p.b;
    const next = ctx.withSystem(p.a, p.ka);
    monitor.newSystem();
    let residualAfter = 0;
    if (next.bNorm === 0)
      x.fill(0); // b = 0: x = 0 is exact (runOnce sees bNorm 0 and stops)
    else residualAfter = next.trueRel(next.vec(0));
    this.applied++;
    this.lastIteration = monitor.iterations;
    this.warmStart = residualAfter;
    this.emit({
      type: "update_applied",
      seq: p.seq,
      iteration: monitor.iterations,
      matrixEntries: p.matrixEntries,
      rhsEntries: p.rhsEntries,
      newEntries: p.newEntries,
      residualBefore,
      residualAfter,
    });
    return next;
  }
}
