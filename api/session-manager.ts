import type { Logger } from "pino";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { randomToken } from "../signaling/random-token.ts";
import type { ApiConfig } from "./config.ts";
import { ApiError } from "./errors.ts";
import type { ParsedSolve } from "./request.ts";
import { Session } from "./session.ts";
import { SessionStore } from "./session-store.ts";
import { SolverPool, type RunningSolve } from "./solver-pool.ts";

/** A full iterate rides along with an update at most this often (the server keeps it for verify and x). */
const X_EVERY_MS = 100;

/**
 * Starts sessions on the solver threads, ends them (finished, cancelled, server closing) and keeps the
 * store and the metrics true: every session is counted once by how it ended.
 */
export class SessionManager {
  readonly store: SessionStore;
  private readonly pool: SolverPool;
  private readonly running = new Map<string, RunningSolve>();
  /** Sessions stopped by cancel(), so their end is reported as cancelled whatever the thread says. */
  private readonly cancelled = new Set<string>();

  constructor(
    private readonly config: ApiConfig,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
  ) {
    this.store = new SessionStore(config.sessionTtlMs, metrics);
    this.pool = new SolverPool(config.maxRunningSolves, 2);
    metrics.apiGauges = () => ({ sessionsOpen: this.store.size, solvesRunning: this.pool.running });
  }

  /** Loads a solver thread ahead of the first session (a cold thread delays the first update). */
  warm(): void {
    this.pool.warm();
  }

  start(parsed: ParsedSolve): Session {
    if (this.pool.full) {
      throw new ApiError(
        503,
        "server_busy",
        `${this.pool.running} solves are running, the most this server runs at once`,
      );
    }
    if (this.store.size >= this.config.maxSessions) {
      throw new ApiError(503, "too_many_sessions", `the server holds ${this.store.size} sessions, its limit`);
    }
    const { a, b, method, options } = parsed;
    const session = new Session(
      randomToken(),
      a,
      b,
      method,
      options,
      this.config.replayEvents,
      this.config.xInlineMax,
    );
    const solve = this.pool.run(
      {
        a,
        b,
        method,
        tol: options.tolerance,
        maxIter: options.max_iterations,
        preconditioner: options.preconditioner,
        timeLimitMs: this.config.maxSolveMs,
        updateEvery: Math.min(10, options.verification_interval),
        xHead: options.x_partial_count,
        minUpdateMs: this.config.minUpdateMs,
        xEveryMs: X_EVERY_MS,
        verifyEvery: options.verification_interval,
        mailbox: session.mailbox,
      },
      (update) => {
        if (!session.running) return;
        session.onUpdate(update);
        this.metrics.api.updatesStreamed++;
        if (update.verify) this.metrics.api.verifications++;
      },
      (event) => session.onLive(event),
    );
    this.store.add(session);
    this.running.set(session.id, solve);
    this.metrics.api.sessionsStarted++;
    solve.done.then(
      (outcome) => {
        this.running.delete(session.id);
        const cancelled = this.cancelled.delete(session.id);
        session.finish(outcome, cancelled || (outcome.ok && outcome.reason === "cancelled"));
        this.countEnd(session);
      },
      (error: unknown) => this.logger.error({ event: "api_solve_error", error: String(error) }),
    );
    this.logger.info({ event: "api_session_started", session: session.id.slice(0, 8), n: a.rows, method });
    return session;
  }

  /** Stops a running session; `remove` also forgets it at once (its client left: nothing stays behind). */
  cancel(session: Session, remove: boolean): void {
    const solve = this.running.get(session.id);
    if (solve !== undefined) {
      this.cancelled.add(session.id);
      solve.stop();
    }
    if (remove) this.store.delete(session.id);
  }

  async close(): Promise<void> {
    for (const session of this.store.close()) this.cancel(session, false);
    await this.pool.close();
  }

  private countEnd(session: Session): void {
    const counters = this.metrics.api;
    if (session.state === "converged") counters.sessionsConverged++;
    else if (session.state === "cancelled") counters.sessionsCancelled++;
    else counters.sessionsFailed++;
  }
}
