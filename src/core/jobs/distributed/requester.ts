import type { JobStore } from "../job-store.ts";
import type { DistributedResult, HaloRouting } from "../../distributed/index.ts";
import type { DistEnvelope } from "../../protocol/distributed-frame.ts";
import { DistributedRun } from "./run.ts";
import { JobError } from "../../protocol/job-errors.ts";
import type { JobLink } from "../job-link.ts";
import type { SolveJob } from "../model.ts";
import type { RequesterInputs } from "../requester/inputs.ts";
import type { RequesterView } from "../requester/view.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { solveCostFlops } from "../split.ts";
import { CheckpointWriter, loadDistCheckpoint } from "./checkpoint-blob.ts";

/** The one chart line of a distributed solve: its global residual, then the certificate of x. */
const DISTRIBUTED_LINE = { key: "distributed", label: "distributed solve (all blocks)" } as const;

/** What the requester's distributed solves need from the requester runtime. */
export interface DistributedSolvesContext {
  readonly scheduler: Scheduler;
  readonly inputs: RequesterInputs;
  readonly link: JobLink;
  readonly repo: JobStore;
  readonly view: RequesterView;
  readonly now: () => number;
  /** Heartbeat period the scheduler expects (sent to block holders with their data). */
  readonly heartbeatIntervalMs: number;
  /** Halo routing of the runs (default: run.ts's). */
  readonly haloRouting?: HaloRouting;
  /** Resolves once the scheduler's changes so far are in IndexedDB. */
  readonly flush: () => Promise<void>;
  /** Asks for a scheduler tick soon. */
  readonly kick: () => void;
  readonly onChange?: () => void;
  readonly onError?: (message: string) => void;
}

/**
 * The distributed solves of this session, by job id: each is a DistributedRun coordinated from this tab,
 * created at its job's first placement, whose block units the scheduler leases to volunteers like any
 * other unit. The run certifies its own result; it is then stored and credited here.
 */
export class RequesterDistributedSolves {
  readonly #ctx: DistributedSolvesContext;
  readonly #runs = new Map<string, Promise<DistributedRun>>();
  readonly #writers = new Map<string, CheckpointWriter>();
  /** Iteration of the last checkpoint persisted this session, by job id (tests wait on it). */
  readonly #persisted = new Map<string, number>();
  /** Iteration each run of this session resumed from (0: from zero), by job id. */
  readonly #resumedFrom = new Map<string, number>();

  constructor(ctx: DistributedSolvesContext) {
    this.#ctx = ctx;
  }

  /** Places a row block of the job's run on a volunteer. */
  async place(
    job: SolveJob,
    block: number,
    unitId: string,
    attempt: number,
    volunteerId: string,
  ): Promise<void> {
    const run = await this.#runOf(job);
    run.place(block, unitId, attempt, volunteerId);
  }

  /** A reply of a block holder (the caller drops everything once the runtime is closed). */
  onMessage(from: string, env: DistEnvelope): void {
    if (env.kind !== "from") return;
    const { scheduler } = this.#ctx;
    const unit = scheduler.unit(env.unitId);
    if (unit === undefined) return;
    const run = this.#runs.get(unit.jobId);
    if (run === undefined) return;
    // Any reply of the current holder is as good as a heartbeat.
    scheduler.onHeartbeat(env.unitId, env.attempt, from);
    void run.then((r) => r.onMessage(from, env)).catch(() => undefined);
  }

  /** The iteration of the job's last checkpoint persisted by this session, or null. */
  persistedCheckpoint(jobId: string): number | null {
    return this.#persisted.get(jobId) ?? null;
  }

  /** The persisted checkpoint iteration this session's run of the job resumed from (0: none), or null. */
  resumedFrom(jobId: string): number | null {
    return this.#resumedFrom.get(jobId) ?? null;
  }

  /** Stops the job's run (its job finished). */
  stop(jobId: string): void {
    const run = this.#runs.get(jobId);
    this.#runs.delete(jobId);
    this.#writers.get(jobId)?.stop();
    this.#writers.delete(jobId);
    void run?.then((r) => r.stop()).catch(() => undefined);
  }

  stopAll(): void {
    for (const run of this.#runs.values()) void run.then((r) => r.stop()).catch(() => undefined);
    this.#runs.clear();
    for (const writer of this.#writers.values()) writer.stop();
    this.#writers.clear();
  }

  /**
   * The job's run, created at its first placement. After a reload it resumes from the checkpoint the
   * previous session persisted (checkpoint-blob.ts), if there is one.
   */
  #runOf(job: SolveJob): Promise<DistributedRun> {
    let run = this.#runs.get(job.id);
    if (run === undefined) {
      const ctx = this.#ctx;
      run = (async () => {
        const a = await ctx.inputs.matrixOf(job.spec.matrix.sha256);
        const ref = job.spec.rhs[0];
        if (ref === undefined) throw new JobError("invalid_state", `job ${job.id} has no right-hand side`);
        const b = await ctx.inputs.vectorOf(ref.sha256, a.rows);
        const resume = await loadDistCheckpoint(ctx.repo, job.id, a.rows);
        this.#resumedFrom.set(job.id, resume?.iteration ?? 0);
        const writer = new CheckpointWriter({
          repo: ctx.repo,
          jobId: job.id,
          now: ctx.now,
          onSaved: (iteration) => this.#persisted.set(job.id, iteration),
          onError: (error) => ctx.onError?.(`checkpoint of ${job.id} not saved: ${String(error)}`),
        });
        this.#writers.set(job.id, writer);
        return new DistributedRun({
          jobId: job.id,
          a,
          b,
          blocks: job.spec.blocks ?? 2,
          tol: job.tolerance,
          maxIter: job.spec.maxIter,
          heartbeatIntervalMs: ctx.heartbeatIntervalMs,
          ...(ctx.haloRouting ? { haloRouting: ctx.haloRouting } : {}),
          resume,
          onCheckpoint: (cp) => writer.save(cp),
          send: (to, env) => ctx.link.sendDist(to, env),
          onIteration: (iteration, rel) => this.#onIteration(job.id, iteration, rel),
          onResult: (result) => void this.#onResult(job.id, result),
          onBlame: (holder, detail) => {
            // Proven by an exact check (audit.ts): banned at once, and the block moves.
            ctx.scheduler.onProvenFault(
              holder.unitId,
              holder.attempt,
              holder.volunteerId,
              `the distributed block audit caught wrong values: ${detail}`,
            );
            ctx.kick();
          },
          onSendFailed: (holder) => {
            const unit = ctx.scheduler.unit(holder.unitId);
            if (unit?.status === "leased" && unit.lease?.attempt === holder.attempt) {
              ctx.scheduler.onDisconnect(holder.volunteerId);
              ctx.kick();
            }
          },
        });
      })();
      this.#runs.set(job.id, run);
      run.catch((error: unknown) => {
        ctx.onError?.(`distributed solve ${job.id} could not start: ${String(error)}`);
        if (this.#runs.get(job.id) === run) this.#runs.delete(job.id);
      });
    }
    return run;
  }

  #onIteration(jobId: string, iteration: number, relResidual: number): void {
    const { scheduler, view } = this.#ctx;
    view.pushResidual(jobId, DISTRIBUTED_LINE.key, DISTRIBUTED_LINE.label, 0, {
      iteration,
      residual: relResidual,
    });
    for (const unit of scheduler.unitsOf(jobId)) {
      if (unit.status !== "leased" || unit.lease === null) continue;
      view.setProgress(unit.id, {
        attempt: unit.lease.attempt,
        rhsDone: 0,
        rhsTotal: 1,
        iteration,
        relResidual,
        backend: "js",
      });
    }
    this.#ctx.onChange?.();
  }

  /**
   * The coordinator gathered x and certified it (its relativeResidual is this tab's own f64 check). A
   * converged result is stored on block 0's unit (x whole; the other blocks' rows carry no vector) and
   * every block unit is accepted and verified, crediting its current holder. A result that did not
   * converge is reported as such on every unit (the scheduler then retries or fails the job).
   */
  async #onResult(jobId: string, result: DistributedResult): Promise<void> {
    const { scheduler, repo, view } = this.#ctx;
    const job = scheduler.job(jobId);
    if (job === undefined || job.status !== "running") return;
    this.#runs.delete(jobId);
    this.#writers.get(jobId)?.stop();
    this.#writers.delete(jobId);
    const receivedAtMs = this.#ctx.now();
    const ok = result.converged && result.relResidual <= job.tolerance;
    const units = [...scheduler.unitsOf(jobId)].sort((p, q) => p.index - q.index);
    const { nnz } = job.spec.matrix;
    const accepted: { unitId: string; attempt: number }[] = [];
    for (const unit of units) {
      const lease = unit.lease;
      if (unit.status !== "leased" || lease === null || unit.task.kind !== "row-block") continue;
      const blockNnz = Math.ceil(nnz / Math.max(1, unit.task.blocks));
      const workFlops = solveCostFlops(unit.task.rowEnd - unit.task.rowStart, blockNnz, result.iterations, 1);
      if (
        scheduler.onResult(unit.id, lease.attempt, lease.volunteerId, workFlops) !== "accept-for-verification"
      )
        continue;
      accepted.push({ unitId: unit.id, attempt: lease.attempt });
      await repo.saveResult({
        unitId: unit.id,
        attempt: lease.attempt,
        jobId,
        volunteerId: lease.volunteerId,
        receivedAtMs,
        xs: unit.index === 0 ? [result.x] : [],
        relResiduals: null,
        verified: false,
        envelope: null,
      });
    }
    await this.#ctx.flush();
    if (ok && accepted.length > 0) {
      const end = { iteration: result.iterations, residual: result.relResidual };
      view.certify(jobId, DISTRIBUTED_LINE.key, DISTRIBUTED_LINE.label, 0, end);
    }
    for (const { unitId, attempt } of accepted) {
      if (ok) {
        await repo.markResultVerified(unitId, attempt, [result.relResidual]);
        view.setUnitResidual(unitId, result.relResidual);
        view.setUnitClaims(unitId, { iterations: result.iterations, relResidual: result.relResidual });
        view.markRhsDone(unitId, 1);
      }
      scheduler.onVerified(
        unitId,
        attempt,
        ok
          ? { ok: true }
          : {
              ok: false,
              code: "not_converged",
              // The requester's own coordinator found it (and certified x): nobody's claim to judge.
              confirmed: true,
              reason:
                `distributed ${result.label} stopped (${result.reason}) after ${result.iterations} iterations ` +
                `with certified residual ${result.relResidual.toExponential(2)}${result.detail ? `: ${result.detail}` : ""}`,
            },
      );
    }
    view.setDistributedStats(jobId, {
      failovers: result.failovers,
      blamed: result.blamed,
      iterations: result.iterations,
      resumedFrom: result.resumedFrom,
      haloRouting: result.haloRouting,
      peerFallbacks: result.peerFallbacks,
      relayedHaloParts: result.relayedHaloParts,
      relayedHaloPairs: result.relayedHaloPairs,
      relResidual: result.relResidual,
      label: result.label,
    });
    this.#ctx.kick();
  }
}
