import type { Logger } from "pino";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { randomToken } from "../signaling/random-token.ts";
import type { ApiConfig } from "./config.ts";
import { ApiError } from "./errors.ts";
import type { ParsedSolve } from "./request.ts";
import { Session } from "./session.ts";
import { SessionStore } from "./session-store.ts";
import { SolveQueue } from "./solve-queue.ts";
import { SolverPool, type RunningSolve } from "./solver-pool.ts";
import type { ThreadUpdate } from "./solve-messages.ts";
import { solveOnSwarm, type SessionRun, type SolveRequest } from "./swarm-solve.ts";
import type { ServerSwarm } from "./swarm-requester.ts";
import { ON_SERVER, type Where } from "./where.ts";

/** A full iterate rides along with an update at most this often (the server keeps it for verify and x). */
const X_EVERY_MS = 100;

/**
 * Starts sessions on a volunteer (api/swarm-solve.ts, when the swarm requester runs and the session allows
 * it) or on the solver threads, ends them (finished, cancelled, server closing) and keeps the
 * store and the metrics true: every session is counted once by how it ended.
 */
export class SessionManager {
  readonly store: SessionStore;
  private readonly pool: SolverPool;
  private readonly queue: SolveQueue;
  /** Sessions running, on the threads (or queued for one) or on the swarm. */
  private readonly running = new Map<string, SessionRun>();
  /** Sessions stopped by cancel() or shutdown(), so their end is reported as such whatever the thread says. */
  private readonly stopped = new Map<string, "cancelled" | "shutdown">();
  /** Each running session's end (its solve done and its final event appended). */
  private readonly ends = new Map<string, Promise<void>>();
  /** Set by drain(): new sessions are refused with 503 draining. */
  draining = false;

  constructor(
    private readonly config: ApiConfig,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
    /** The server's swarm requester (null: every session computes on the server). */
    private readonly swarm: ServerSwarm | null = null,
  ) {
    this.store = new SessionStore(config.sessionTtlMs, metrics);
    this.pool = new SolverPool(config.maxRunningSolves, 2);
    this.queue = new SolveQueue(this.pool, config.maxQueuedSolves);
    metrics.apiGauges = () => ({ sessionsOpen: this.store.size, solvesRunning: this.pool.running });
  }

  /** Loads a solver thread ahead of the first session (a cold thread delays the first update). */
  warm(): void {
    this.pool.warm();
  }

  /**
   * Starts `parsed` for `owner` (access.ts Caller.owner). `origin`: where the server answers its own
   * requester (the address the request arrived at); null keeps the session on the threads.
   */
  start(parsed: ParsedSolve, owner: string, origin: string | null = null): Session {
    if (this.draining) {
      throw new ApiError(
        503,
        "draining",
        "the server is shutting down and takes no new sessions; retry on another",
      );
    }
    if (this.queue.full) {
      throw new ApiError(
        503,
        "server_busy",
        `${this.queue.running} solves are running and ${this.queue.queued} waiting for a thread, the most this server holds`,
      );
    }
    if (this.store.size >= this.config.maxSessions) {
      throw new ApiError(503, "too_many_sessions", `the server holds ${this.store.size} sessions, its limit`);
    }
    const { a, b, method, options } = parsed;
    const session = new Session(
      randomToken(),
      owner,
      a,
      b,
      method,
      options,
      this.config.replayEvents,
      this.config.xInlineMax,
    );
    session.onVerified = (passed) => {
      this.metrics.api.verifications++;
      if (!passed) this.metrics.api.verificationsFailed++;
    };
    const request: SolveRequest = {
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
    };
    const onUpdate = (update: ThreadUpdate, where: Where): void => {
      if (!session.running) return;
      session.onUpdate(update, where);
      this.metrics.api.updatesStreamed++;
    };
    // On the threads: now on a free one, or in arrival order once one is free (solve-queue.ts).
    const onServer = (r: SolveRequest, u: (update: ThreadUpdate) => void) =>
      this.queue.run(r, u, (event) => session.onLive(event));
    let solve: SessionRun;
    if (this.swarm !== null && origin !== null && options.swarm_enabled) {
      const deps = { swarm: this.swarm, settings: this.config.swarm, origin, sessionId: session.id };
      const onSwarm = solveOnSwarm(
        request,
        { ...deps, onServer, metrics: this.metrics, logger: this.logger },
        onUpdate,
      );
      // A cost update applies on the server's threads (a volunteer's unit is a fixed system).
      session.onUpdatesPosted = () => onSwarm.toServer("a cost update was posted");
      solve = onSwarm;
    } else {
      const run = onServer(request, (u) => onUpdate(u, ON_SERVER));
      solve = { done: run.done.then((outcome) => ({ outcome, where: ON_SERVER })), stop: () => run.stop() };
    }
    this.store.add(session);
    this.running.set(session.id, solve);
    this.metrics.api.sessionsStarted++;
    const ended = solve.done.then(
      ({ outcome, where }) => {
        this.running.delete(session.id);
        this.ends.delete(session.id);
        const stopped = this.stopped.get(session.id);
        this.stopped.delete(session.id);
        const cancelled = outcome.ok && outcome.reason === "cancelled";
        session.finish(outcome, stopped ?? (cancelled ? "cancelled" : "solved"), where);
        this.countEnd(session);
      },
      (error: unknown) => this.logger.error({ event: "api_solve_error", error: String(error) }),
    );
    this.ends.set(session.id, ended);
    this.logger.info({ event: "api_session_started", session: session.id.slice(0, 8), n: a.rows, method });
    return session;
  }

  /**
   * Stops a running session; `remove` also forgets it at once (its client left: nothing stays behind).
   * Resolves once its final event is appended.
   */
  cancel(session: Session, remove: boolean, why: "cancelled" | "shutdown" = "cancelled"): Promise<void> {
    const solve = this.running.get(session.id);
    if (solve !== undefined) {
      this.stopped.set(session.id, why);
      solve.stop();
    }
    if (remove) this.store.delete(session.id);
    return this.ends.get(session.id) ?? Promise.resolve();
  }

  /**
   * Runs one system on the solver threads, queued behind the sessions' solves when all are busy (jobs,
   * api/jobs/server-solve.ts); throws 503 server_busy when the queue is full too.
   */
  runOnThreads(request: SolveRequest, onUpdate: (u: ThreadUpdate) => void): RunningSolve {
    if (this.queue.full) {
      throw new ApiError(
        503,
        "server_busy",
        `${this.queue.running} solves are running and ${this.queue.queued} waiting`,
      );
    }
    return this.queue.run(request, onUpdate, () => undefined);
  }

  /** Solves running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Resolves when no session is running, or after `ms`, whichever comes first. */
  async idle(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    const deadline = Date.now() + ms;
    // A session cannot start while draining, so the set only shrinks; loop in case one was mid-start.
    while (this.ends.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.ends.values()]), timeout]);
    }
    clearTimeout(timer);
  }

  /** Ends every running session with a server_shutdown result; resolves once each has its final event. */
  async shutdownRunning(): Promise<number> {
    const sessions = [...this.running.keys()].flatMap((id) => this.store.get(id) ?? []);
    for (const s of sessions) {
      // A detached session may have no client to read its last event: the operator's log names it.
      this.logger.warn({ event: "api_session_lost", session: s.id.slice(0, 8), detach: s.options.detach });
    }
    await Promise.all(sessions.map((session) => this.cancel(session, false, "shutdown")));
    return sessions.length;
  }

  async close(): Promise<void> {
    for (const session of this.store.close()) void this.cancel(session, false);
    await this.swarm?.close();
    await this.pool.close();
  }

  private countEnd(session: Session): void {
    const counters = this.metrics.api;
    if (session.state === "converged") counters.sessionsConverged++;
    else if (session.state === "cancelled") counters.sessionsCancelled++;
    else if (session.state === "shutdown") counters.sessionsShutdown++;
    else counters.sessionsFailed++;
  }
}
