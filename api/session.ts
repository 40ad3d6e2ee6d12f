import type { CsrMatrix } from "../src/core/sparse/csr.ts";
import { nnzOf } from "../src/core/sparse/csr.ts";
import {
  applyUpdates,
  createUpdateMailbox,
  postToMailbox,
  type LiveUpdateEvent,
  type SystemUpdates,
} from "../src/core/solver/updates/index.ts";
import { EventLog, type SessionEvent } from "./event-log.ts";
import { judgeProbe, probeResidual, type ProbeResult, type ProbeVerdict } from "./probe.ts";
import type { ApiSolveOptions } from "./schemas.ts";
import type { ThreadUpdate } from "./solve-messages.ts";
import type { ThreadOutcome } from "./solver-pool.ts";
import { ON_SERVER, type Where } from "./where.ts";

export type SessionState = "running" | "converged" | "not_converged" | "failed" | "cancelled" | "shutdown";

/** Why a session ended: its solve's own end, a cancel (client left, DELETE), or the server shutting down. */
export type SessionEnd = "solved" | "cancelled" | "shutdown";

/**
 * One solve-stream session: the system, the latest iterate the solver thread handed over, the event log
 * clients stream from (and resume from), and its end. Events are built here from what the thread posts;
 * verification_result probes are computed here, on the server's copy of A and b, not by the solver.
 */
export class Session {
  readonly createdAtMs = Date.now();
  finishedAtMs: number | null = null;
  state: SessionState = "running";
  iteration = 0;
  residualNorm: number | null = null;
  /** The latest full iterate and the iteration it belongs to (null before the first one arrives). */
  x: Float64Array | null = null;
  xIteration = 0;
  result: Record<string, unknown> | null = null;
  /** Called when a cost update was posted (a swarm session then comes back to the server's threads). */
  onUpdatesPosted: (() => void) | null = null;
  /** Where the latest event's iterations ran (status shows it). */
  where: Where = ON_SERVER;
  readonly events: EventLog;
  /** Where POST /swarm/costs leaves an update for the solver thread (one slot; see postUpdates). */
  readonly mailbox = createUpdateMailbox();
  /** Updates posted and not yet applied or refused by the solver, by their sequence number. */
  private readonly posted = new Map<number, SystemUpdates>();
  private nextSeq = 1;
  /** The system x is being solved for: the request's, then each applied update's (verify probes it). */
  private system: { a: CsrMatrix; b: Float64Array };
  private readonly listeners = new Set<(event: SessionEvent) => void>();
  private readonly endListeners = new Set<() => void>();

  constructor(
    readonly id: string,
    /** Who started it (access.ts Caller.owner): only they, or an admin key, may see it. */
    readonly owner: string,
    a: CsrMatrix,
    b: Float64Array,
    readonly method: string,
    readonly options: ApiSolveOptions,
    replayCapacity: number,
    /** Above this n, solve_result links to GET /api/v1/sessions/:id/x instead of carrying x. */
    private readonly xInlineMax: number,
  ) {
    this.events = new EventLog(replayCapacity);
    this.system = { a, b };
  }

  get a(): CsrMatrix {
    return this.system.a;
  }

  get b(): Float64Array {
    return this.system.b;
  }

  /**
   * Hands a cost update to the running solve: "posted" (its outcome arrives as an update_applied or
   * update_rejected event with this seq), "busy" (the previous one is not taken yet: the solver takes one
   * at each iteration boundary), "closed" (the solve has returned), "too_large".
   */
  postUpdates(
    updates: SystemUpdates,
  ): { result: "posted"; seq: number } | { result: "busy" | "closed" | "too_large" } {
    if (!this.running) return { result: "closed" };
    const seq = this.nextSeq;
    const result = postToMailbox(this.mailbox, seq, updates);
    if (result !== "posted") return { result };
    this.nextSeq++;
    this.posted.set(seq, updates);
    this.onUpdatesPosted?.();
    return { result, seq };
  }

  /** The solver applied (or refused) a posted update: the server's copy of the system follows it. */
  onLive(event: LiveUpdateEvent): void {
    const updates = this.posted.get(event.seq);
    this.posted.delete(event.seq);
    if (event.type === "update_applied" && updates !== undefined) {
      const next = applyUpdates(this.system.a, this.system.b, updates);
      this.system = { a: next.a, b: next.b };
      // The iterate held so far belongs to the old system: a probe must not judge it against the new one.
      this.x = null;
    }
    this.append(event.type, {
      session_id: this.id,
      ...event,
      timestamp: new Date().toISOString(),
      // Updates are applied by the server's threads only (a swarm session comes back to them first).
      where: ON_SERVER,
    });
  }

  get n(): number {
    return this.a.rows;
  }

  get nnz(): number {
    return nnzOf(this.a);
  }

  get running(): boolean {
    return this.state === "running";
  }

  /** Subscribes to events appended from now on; returns the unsubscribe. */
  listen(onEvent: (event: SessionEvent) => void, onEnd: () => void): () => void {
    this.listeners.add(onEvent);
    this.endListeners.add(onEnd);
    return () => {
      this.listeners.delete(onEvent);
      this.endListeners.delete(onEnd);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Random-probe verification of the latest iterate, judged against the tolerance (null before one). */
  verify(
    probeCount: number,
  ): (ProbeResult & ProbeVerdict & { session_id: string; iteration: number }) | null {
    if (this.x === null) return null;
    const probe = probeResidual(this.a, this.b, this.x, probeCount);
    const verdict = judgeProbe(probe, this.options.tolerance);
    this.onVerified(verdict.passed);
    return { session_id: this.id, iteration: this.xIteration, ...probe, ...verdict };
  }

  /** Told of every verification's verdict (the manager counts them in the metrics). */
  onVerified: (passed: boolean) => void = () => undefined;

  /** `where`: the server's threads, or the volunteer that reported it (api/swarm-solve.ts). */
  onUpdate(u: ThreadUpdate, where: Where = ON_SERVER): void {
    this.where = where;
    this.iteration = u.iteration;
    this.residualNorm = u.residualNorm;
    if (u.x !== null) {
      this.x = u.x;
      this.xIteration = u.iteration;
    }
    this.append("iteration_update", {
      session_id: this.id,
      iteration: u.iteration,
      timestamp: new Date().toISOString(),
      method: u.method,
      residual_norm: u.residualNorm,
      convergence_rate: u.convergenceRate,
      x_partial: Array.from(u.xHead),
      performance: u.performance,
      where,
    });
    if (u.verify && u.x !== null) {
      const check = this.verify(this.options.probe_count);
      if (check !== null)
        this.append("verification_result", { ...check, timestamp: new Date().toISOString(), where });
    }
  }

  /** The thread's last word: the final event, the state, and the end of every client's stream. */
  finish(outcome: ThreadOutcome, end: SessionEnd, where: Where = ON_SERVER): void {
    if (!this.running) return;
    this.where = where;
    this.finishedAtMs = Date.now();
    const cancelled = end === "cancelled";
    if (end === "shutdown") {
      this.state = "shutdown";
      this.result = shutdownResult(this, outcome.ok ? outcome.x : this.x, this.n <= this.xInlineMax);
    } else if (outcome.ok) {
      this.x = outcome.x;
      this.xIteration = outcome.iterations;
      this.iteration = outcome.iterations;
      this.residualNorm = outcome.relResidual;
      this.state = outcome.converged ? "converged" : cancelled ? "cancelled" : "not_converged";
      const inline = this.n <= this.xInlineMax;
      this.result = {
        session_id: this.id,
        converged: outcome.converged,
        reason: outcome.reason,
        iterations: outcome.iterations,
        relative_residual: outcome.relResidual,
        certificate: {
          kind: "relative_residual",
          value: outcome.relResidual,
          tolerance: this.options.tolerance,
          note: "‖b − A x‖₂ / ‖b‖₂ recomputed in f64 from A, b and the returned x, independently of the iteration",
        },
        method_path: outcome.methodPath,
        backend: outcome.backend,
        ms: Math.round(outcome.ms * 1000) / 1000,
        n: this.n,
        where,
        ...(inline ? { x: Array.from(outcome.x) } : { x_url: `/api/v1/sessions/${this.id}/x` }),
      };
    } else {
      this.state = cancelled ? "cancelled" : "failed";
      this.result = {
        session_id: this.id,
        converged: false,
        iterations: this.iteration,
        error: { code: cancelled ? "cancelled" : outcome.code, message: outcome.message },
        where,
      };
    }
    this.append("solve_result", this.result);
    for (const end of [...this.endListeners]) end();
  }

  private append(type: SessionEvent["type"], data: Record<string, unknown>): void {
    const event = this.events.append(type, JSON.stringify({ type, ...data }));
    for (const listener of [...this.listeners]) listener(event);
  }
}

/**
 * The last event of a session the server ended because it is shutting down (drain.ts): it says so, names
 * the session, and says the session is lost with the server (status, verify and x are not served again),
 * carrying the last iterate when it is small enough to inline, so a detached client loses nothing it can't
 * see here.
 */
function shutdownResult(s: Session, x: Float64Array | null, inline: boolean): Record<string, unknown> {
  const carried = inline && x !== null;
  return {
    session_id: s.id,
    converged: false,
    reason: "server_shutdown",
    iterations: s.iteration,
    relative_residual: null,
    error: {
      code: "server_shutdown",
      message: `the server is shutting down and ended session ${s.id} before it finished; the session is lost (its status and x will not be served again)${carried ? "; x below is its last iterate, not a solution" : "; its last iterate is lost with it"}`,
    },
    lost: true,
    where: s.where,
    ...(carried ? { x: Array.from(x), x_is: "last_iterate" } : {}),
  };
}
