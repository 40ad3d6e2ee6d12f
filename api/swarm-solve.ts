import type { Logger } from "pino";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { relativeResidual } from "../src/core/solver/certificate.ts";
import type { NodeRequester } from "../src/node/requester.ts";
import type { ThreadSolveRequest, ThreadUpdate } from "./solve-messages.ts";
import type { RunningSolve, ThreadOutcome } from "./solver-pool.ts";
import type { SwarmSettings } from "./swarm-config.ts";
import { progressUpdate, type ProgressPoint } from "./swarm-progress.ts";
import type { ServerSwarm } from "./swarm-requester.ts";
import { ON_SERVER, type Where } from "./where.ts";

/** What a session's solve hands back: how it ended, and where the iterations that produced it ran. */
export interface SessionRun {
  readonly done: Promise<{ outcome: ThreadOutcome; where: Where }>;
  stop(): void;
}

export type SolveRequest = Omit<ThreadSolveRequest, "stop">;

/** A swarm session can also be sent to the server's threads at once (a cost update was posted to it). */
export interface SwarmSessionRun extends SessionRun {
  toServer(reason: string): void;
}

export interface SwarmSolveDeps {
  readonly swarm: ServerSwarm;
  readonly settings: SwarmSettings;
  /** The server's own origin, as the requester dials it (where the request arrived). */
  readonly origin: string;
  readonly sessionId: string;
  /** Runs the solve on the server's threads (the pool), for a session the swarm cannot or did not finish. */
  readonly onServer: (request: SolveRequest, onUpdate: (u: ThreadUpdate) => void) => RunningSolve;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
}

/** Failed (charged) attempts on volunteers before a session is taken back to the server's threads. */
const MAX_SWARM_ATTEMPTS = 2;

const CANCELLED: ThreadOutcome = {
  kind: "done",
  ok: false,
  code: "cancelled",
  message: "the solve was stopped",
};

/**
 * One session on the swarm: the system goes to a volunteer as a one-unit "solve" job of the server's
 * requester (the Dashboard's path: lease, heartbeats, the result verified by the requester's own residual,
 * a wrong one rejected and its sender banned). The volunteer's progress reports become iteration_updates
 * (`verified: false`: the volunteer's own claim); the certified x becomes a last one with `verified: true`
 * (the certificate recomputed here, in f64, independently of the requester's check) and the result.
 *
 * It falls back to the server's threads (every event then says where: "server") when the swarm cannot be
 * joined, nobody else is online, no volunteer links in time, the job fails, or the unit is held by no
 * volunteer for `unheldFallbackMs` (its volunteer left or its lease ran out and nobody took it again, or the
 * only volunteer was banned for a wrong result): a result always arrives, and a wrong one is never returned.
 */
export function solveOnSwarm(
  request: SolveRequest,
  deps: SwarmSolveDeps,
  onUpdate: (u: ThreadUpdate, where: Where) => void,
): SwarmSessionRun {
  const run = new SwarmRun(request, deps, onUpdate);
  return { done: run.done, stop: () => run.stop(), toServer: (reason) => run.toServer(reason) };
}

class SwarmRun {
  readonly done: Promise<{ outcome: ThreadOutcome; where: Where }>;
  #resolve!: (end: { outcome: ThreadOutcome; where: Where }) => void;
  #settled = false;
  #stopped = false;
  #leaving = false;
  #requester: NodeRequester | null = null;
  #jobId: string | null = null;
  #server: RunningSolve | null = null;
  #unwatch: (() => void) | null = null;
  #where: Where = ON_SERVER;
  /** The last progress report turned into an update: its attempt, iteration, residual and arrival. */
  #last: ProgressPoint = { attempt: 0, iteration: -1, residual: Number.NaN, atMs: performance.now() };
  #unheldSinceMs: number | null = null;
  #rejected = 0;
  /** Sent to the server's threads whatever the swarm does (toServer): checked at each step that awaits. */
  #serverWanted: string | null = null;
  readonly #startedMs = performance.now();

  constructor(
    private readonly request: SolveRequest,
    private readonly deps: SwarmSolveDeps,
    private readonly onUpdate: (u: ThreadUpdate, where: Where) => void,
  ) {
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    void this.#start();
  }

  /**
   * A cost update was posted to the session's mailbox: a volunteer's unit is a fixed system, so the session
   * comes back to the server's threads, whose solver takes the update from the mailbox at its first
   * iteration boundary (update_applied follows on the stream).
   */
  toServer(reason: string): void {
    if (this.#settled || this.#stopped || this.#server !== null || this.#serverWanted !== null) return;
    this.#serverWanted = reason;
    if (this.#jobId !== null && !this.#leaving) void this.#takeBack(reason);
    // Otherwise #start (joining, recruiting, submitting) or #certified (reading x) sees it and comes back.
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#server !== null) {
      this.#server.stop();
    } else if (this.#jobId !== null) {
      void this.#cancelJob();
      this.#end(CANCELLED, this.#where);
    }
    // Otherwise #start is still joining, recruiting or submitting: it sees #stopped and ends.
  }

  async #start(): Promise<void> {
    const { swarm, origin, settings } = this.deps;
    try {
      const requester = await swarm.requester(origin);
      if (this.#stopped) return this.#end(CANCELLED, ON_SERVER);
      if (this.#serverWanted !== null) return this.#toServer(this.#serverWanted);
      if (requester === null) return this.#toServer("the swarm could not be joined");
      // Nobody else in the directory: no volunteer to wait for.
      if (requester.swarm.directory.totalPeers === 0) return this.#toServer("no volunteer online");
      let linked;
      try {
        linked = await requester.awaitVolunteers(1, settings.linkWaitMs);
        if (this.#serverWanted !== null) return this.#toServer(this.#serverWanted);
        if (linked === 0 || this.#stopped) {
          if (this.#stopped) return this.#end(CANCELLED, ON_SERVER);
          return this.#toServer(`no volunteer linked within ${settings.linkWaitMs} ms`);
        }
        this.#jobId = await requester.runtime.submit({
          name: `api session ${this.deps.sessionId.slice(0, 8)}`,
          kind: "solve",
          a: this.request.a,
          rhs: [this.request.b],
          method: this.request.method,
          ...(this.request.preconditioner !== undefined
            ? { preconditioner: this.request.preconditioner }
            : {}),
          tol: this.request.tol,
          maxIter: this.request.maxIter,
        });
      } finally {
        // The job runs now (or was not submitted): the runtime's recruiter keeps or releases the links.
        requester.stopGathering();
      }
      this.#requester = requester;
      this.deps.metrics.api.swarmSessions++;
      if (this.#stopped) {
        await this.#cancelJob();
        return this.#end(CANCELLED, ON_SERVER);
      }
      if (this.#serverWanted !== null) return this.#takeBack(this.#serverWanted);
      this.#unwatch = swarm.watch(() => this.#check());
      this.#check();
    } catch (error) {
      this.#toServer(`the swarm did not take the job: ${String(error)}`);
    }
  }

  /** Looks at the job after every requester change (at least once per scheduler tick). */
  #check(): void {
    if (this.#settled || this.#stopped || this.#leaving) return;
    const requester = this.#requester!;
    const jobId = this.#jobId!;
    const job = requester.job(jobId);
    const unit = requester.runtime.units(jobId)[0];
    if (job === undefined || unit === undefined) return;
    this.#countRejections(unit.history);
    if (job.status === "done") {
      this.#leaving = true;
      void this.#certified(unit.id, unit.result?.volunteerId ?? null);
      return;
    }
    if (job.status !== "running") {
      void this.#takeBack(`the swarm job ended ${job.status}: ${job.outcome?.message ?? ""}`);
      return;
    }
    // The scheduler would retry up to its maxAttempts (5, each up to a lease or a 15 s send timeout, often
    // on the same volunteer); a session has a client waiting, so the second failed attempt sends it home.
    if (unit.attemptsUsed >= MAX_SWARM_ATTEMPTS) {
      const last = unit.history.at(-1);
      const why = last === undefined ? "" : `: ${last.outcome} (${last.detail.slice(0, 200)})`;
      void this.#takeBack(`${unit.attemptsUsed} attempts on volunteers failed${why}`);
      return;
    }
    if (performance.now() - this.#startedMs > this.request.timeLimitMs) {
      void this.#cancelJob();
      const message = `no verified result within ${this.request.timeLimitMs} ms`;
      return this.#end({ kind: "done", ok: false, code: "time_limit", message }, this.#where);
    }
    if (unit.status === "pending") {
      // Its first placement may take as long as linking did; once held, an unheld unit is taken back sooner.
      const { unheldFallbackMs, linkWaitMs } = this.deps.settings;
      const allowedMs = unit.attempt === 0 ? Math.max(unheldFallbackMs, linkWaitMs) : unheldFallbackMs;
      this.#unheldSinceMs ??= Date.now();
      if (Date.now() - this.#unheldSinceMs >= allowedMs) {
        void this.#takeBack(`no volunteer held the unit for ${allowedMs} ms`);
      }
      return;
    }
    this.#unheldSinceMs = null;
    const peer = unit.lease?.volunteerId;
    const progress = requester.runtime.progressOf(unit.id);
    if (peer === undefined || progress === null || progress.attempt !== unit.attempt) return;
    const last = this.#last;
    if (progress.attempt === last.attempt && progress.iteration <= last.iteration) return;
    // As the threads post theirs: at most one update per minUpdateMs, however often a volunteer reports.
    if (performance.now() - last.atMs < this.request.minUpdateMs) return;
    const residual = progress.relResidual ?? Number.NaN;
    this.#progress(progress.attempt, progress.iteration, residual, null, {
      kind: "volunteer",
      peer,
      verified: false,
    });
  }

  /** An iteration_update: a volunteer's progress report, or (with x) the certified end. */
  #progress(
    attempt: number,
    iteration: number,
    residual: number,
    x: Float64Array | null,
    where: Where,
  ): void {
    const report = { attempt, iteration, residual, atMs: performance.now() };
    const update = progressUpdate(this.#last, report, x, this.request);
    this.#last = report;
    this.#where = where;
    this.onUpdate(update, where);
  }

  /** The requester verified the volunteer's x: certify it here too, then end with it. */
  async #certified(unitId: string, peer: string | null): Promise<void> {
    const requester = this.#requester!;
    let x: Float64Array | undefined;
    try {
      x = (await requester.runtime.certifiedSolutions(this.#jobId!)).xs[0];
    } catch (error) {
      this.#leaving = false;
      return this.#takeBack(`the certified solution could not be read: ${String(error)}`);
    }
    if (this.#settled || this.#stopped) return;
    if (this.#serverWanted !== null) {
      this.#leaving = false;
      return this.#takeBack(this.#serverWanted);
    }
    const { a, b, tol } = this.request;
    const rel = x === undefined ? Number.NaN : relativeResidual(a, x, b);
    if (x === undefined || !(rel <= tol) || peer === null) {
      this.#leaving = false;
      return this.#takeBack(`the swarm's solution fails the server's own residual check (${rel})`);
    }
    const iterations = requester.runtime.unitClaims(unitId)?.iterations ?? Math.max(0, this.#last.iteration);
    const where: Where = { kind: "volunteer", peer, verified: true };
    this.#progress(this.#last.attempt, iterations, rel, x.slice(), where);
    this.deps.metrics.api.swarmCertified++;
    this.#end(
      {
        kind: "done",
        ok: true,
        x,
        converged: true,
        reason: "converged",
        iterations,
        relResidual: rel,
        methodPath: [this.request.method],
        backend: `volunteer:${requester.runtime.progressOf(unitId)?.backend ?? "cpu"}`,
        ms: performance.now() - this.#startedMs,
      },
      where,
    );
    void this.#forgetJob();
  }

  /** Cancels the swarm job and computes the session on the server instead. */
  async #takeBack(reason: string): Promise<void> {
    if (this.#leaving || this.#settled) return;
    this.#leaving = true;
    this.#unwatch?.();
    this.deps.metrics.api.swarmFallbacks++;
    await this.#cancelJob();
    this.#toServer(reason);
  }

  #toServer(reason: string): void {
    if (this.#settled) return;
    if (this.#stopped) return this.#end(CANCELLED, ON_SERVER);
    this.deps.logger.info({
      event: "api_session_on_server",
      session: this.deps.sessionId.slice(0, 8),
      reason,
    });
    try {
      this.#server = this.deps.onServer(this.request, (u) => this.onUpdate(u, ON_SERVER));
    } catch (error) {
      return this.#end({ kind: "done", ok: false, code: "server_busy", message: String(error) }, ON_SERVER);
    }
    this.#where = ON_SERVER;
    void this.#server.done.then((outcome) => this.#end(outcome, ON_SERVER));
  }

  /** Volunteer results the requester's residual check refused (each counted once). */
  #countRejections(history: readonly { outcome: string; volunteerId: string }[]): void {
    const rejected = history.filter((h) => h.outcome === "invalid-result");
    for (const h of rejected.slice(this.#rejected)) {
      this.deps.metrics.api.swarmResultsRejected++;
      this.deps.logger.warn({
        event: "api_swarm_result_rejected",
        session: this.deps.sessionId.slice(0, 8),
        peer: h.volunteerId,
      });
    }
    this.#rejected = Math.max(this.#rejected, rejected.length);
  }

  async #cancelJob(): Promise<void> {
    this.#unwatch?.();
    const jobId = this.#jobId;
    if (jobId === null || this.#requester === null) return;
    await this.#requester.runtime.cancel(jobId).catch(() => undefined);
    await this.#forgetJob();
  }

  /** A finished job's files are removed: the session keeps what it needs. */
  async #forgetJob(): Promise<void> {
    const jobId = this.#jobId;
    if (jobId === null || this.#requester === null) return;
    await this.#requester.runtime.deleteJob(jobId).catch(() => undefined);
  }

  #end(outcome: ThreadOutcome, where: Where): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#unwatch?.();
    this.#resolve({ outcome, where });
  }
}
