import type { JobStore } from "../job-store.ts";
import { assignBody } from "./assign-body.ts";
import type { BlobCache } from "../../base/blob-cache.ts";
import { BlobSender } from "./blob-sender.ts";
import { JobError } from "../../protocol/job-errors.ts";
import type { JobLink } from "../job-link.ts";
import { loadJobMeta, saveJobMeta } from "./job-meta.ts";
import { JOB_PROTOCOL_VERSION } from "../../protocol/jobs.ts";
import type { SolveJob, VolunteerInfo, WorkUnit } from "../model.ts";
import { ReputationBook } from "../../trust/reputation.ts";
import { RequesterDistributedSolves } from "../distributed/index.ts";
import { RequesterInputs } from "./inputs.ts";
import { RequesterResultIntake } from "./intake.ts";
import { prepareSubmission, type SubmitInput } from "./submit.ts";
import { RequesterView, type ResidualSeries, type UnitClaims, type UnitLiveProgress } from "./view.ts";
import { loadViewSnapshot, saveViewSnapshot } from "./view-snapshot.ts";
import { decodeVector } from "../payload.ts";
import { jobExport, type JobExport } from "./job-export.ts";
import { Scheduler, type SchedulerAction, type SchedulerOptions } from "../scheduler/scheduler.ts";

export type { SubmitInput } from "./submit.ts";
export type { ResidualSeries, UnitClaims, UnitLiveProgress } from "./view.ts";

/**
 * The requester of a tab: owns the jobs this tab submitted, runs the scheduler (scheduler.ts) against the
 * swarm through a JobLink, verifies every result itself (intake.ts, verify.ts: one SpMV
 * per solution) and keeps everything in IndexedDB (JobStore), so a reload resumes: leased units are
 * reissued, received but unverified results are verified again, verified units are never recomputed.
 *
 * Event flow: a message or a directory change goes into the scheduler; `#kick()` runs `tick()` soon after
 * (and a timer runs it every second); its actions are carried out (assignments are signed bodies plus the
 * input blobs the volunteer does not have yet, blob-sender.ts; row blocks of distributed solves go to
 * jobs/distributed/requester.ts); then the scheduler's changes are saved in one transaction. Saves are chained,
 * so they reach IndexedDB in the order they happened. What views show beyond the scheduler's state is kept
 * in view.ts; the job inputs in inputs.ts.
 */

export interface RequesterRuntimeOptions {
  readonly link: JobLink;
  readonly repo: JobStore;
  /** Where solution blobs arrive (shared with the tab's volunteer: the mesh has one blob stream). */
  readonly cache: BlobCache;
  /** Volunteers reachable now (this tab included): asked at every tick. */
  readonly volunteers: () => VolunteerInfo[];
  readonly nowMs?: () => number;
  readonly random?: () => number;
  readonly scheduler?: Partial<Omit<SchedulerOptions, "nowMs" | "random" | "reputation">>;
  /** Scheduler tick period (default 1000 ms). */
  readonly tickMs?: number;
  /** How long a result's solution blobs may take to arrive after its body (default 30 s). */
  readonly blobWaitMs?: number;
  /** Called after anything a view shows changed (often: throttle in the view layer). */
  readonly onChange?: () => void;
  readonly onError?: (message: string) => void;
}

const HISTORY_JOBS = 50;
/** A running job's view snapshot (chart, claims) is saved at most this often; a finished one at once. */
const SNAPSHOT_EVERY_MS = 5_000;

export class RequesterRuntime {
  readonly scheduler: Scheduler;
  readonly #o: RequesterRuntimeOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Input blobs of running jobs (also in IndexedDB), and their decoded forms for verification. */
  readonly #inputs: RequesterInputs;
  /** Blobs sent (or being sent) to each volunteer in this session. */
  readonly #blobs: BlobSender;
  readonly #view = new RequesterView();
  /** Volunteers' messages and results in, verified results out (to the scheduler and IndexedDB). */
  readonly #intake: RequesterResultIntake;
  /** Distributed solves of this session (a run is created at its job's first placement). */
  readonly #distributed: RequesterDistributedSolves;
  readonly #names = new Map<string, string>();
  /** Seeds of jobs whose right-hand sides are random (shown so b can be made again). */
  readonly #rhsSeeds = new Map<string, number>();
  /** When each running job's view snapshot was last saved. */
  readonly #snapshotAtMs = new Map<string, number>();
  /** Snapshot saves in flight (a delete waits for them, so none writes after it). */
  readonly #snapshotSaves = new Map<string, Promise<void>>();
  /** Finished jobs from earlier sessions (the scheduler holds this session's and the running ones). */
  #history: SolveJob[] = [];
  readonly #historyUnits = new Map<string, WorkUnit[]>();
  readonly #offs: (() => void)[] = [];
  #saving: Promise<void> = Promise.resolve();
  #kicked = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  private constructor(options: RequesterRuntimeOptions, scheduler: Scheduler) {
    this.#o = options;
    this.#now = options.nowMs ?? (() => Date.now());
    this.#random = options.random ?? Math.random;
    this.scheduler = scheduler;
    this.#inputs = new RequesterInputs(options.repo);
    this.#blobs = new BlobSender(
      (sha256) => this.#inputs.bytes(sha256),
      (volunteerId, bytes) => this.#o.link.sendBlob(volunteerId, bytes),
    );
    this.#intake = new RequesterResultIntake({
      scheduler,
      verify: { scheduler, inputs: this.#inputs, repo: options.repo, view: this.#view },
      view: this.#view,
      repo: options.repo,
      cache: options.cache,
      now: this.#now,
      blobWaitMs: options.blobWaitMs ?? 30_000,
      forgetBlobs: (volunteerId) => this.#blobs.forget(volunteerId),
      flush: () => this.flush(),
      kick: () => this.#kick(),
      onChange: () => this.#o.onChange?.(),
      sendVerdict: (to, body) => void this.#o.link.sendBody(to, body).catch(() => undefined),
    });
    this.#distributed = new RequesterDistributedSolves({
      scheduler,
      inputs: this.#inputs,
      link: options.link,
      repo: options.repo,
      view: this.#view,
      now: this.#now,
      // Heartbeat period the scheduler expects (sent to block holders with their data).
      heartbeatIntervalMs: options.scheduler?.heartbeatIntervalMs ?? 1_000,
      flush: () => this.flush(),
      kick: () => this.#kick(),
      onChange: () => this.#o.onChange?.(),
      onError: (message) => this.#o.onError?.(message),
    });
  }

  /** Resumes the persisted state (repo.resumeState), then starts ticking. */
  static async start(options: RequesterRuntimeOptions): Promise<RequesterRuntime> {
    const nowMs = options.nowMs ?? (() => Date.now());
    const state = await options.repo.resumeState(nowMs());
    const scheduler = new Scheduler({
      heartbeatIntervalMs: 1_000,
      heartbeatTimeoutMs: 8_000,
      // This tab's own volunteer: its "did not converge" confirms a claim (scheduler/claims.ts).
      selfId: options.link.selfId,
      ...options.scheduler,
      nowMs,
      random: options.random ?? Math.random,
      reputation: new ReputationBook(state.reputation),
    });
    scheduler.restore({ jobs: state.jobs, units: state.units });
    const rt = new RequesterRuntime(options, scheduler);
    await rt.#load(state.jobs);
    rt.#listen();
    for (const item of state.reverify) void rt.#intake.reverify(item);
    rt.#timer = setInterval(() => rt.#kick(), options.tickMs ?? 1_000);
    rt.#kick();
    return rt;
  }

  async #load(running: readonly SolveJob[]): Promise<void> {
    const { repo } = this.#o;
    const all = await repo.listJobs(HISTORY_JOBS);
    this.#history = all.filter((j) => j.status !== "running" && this.scheduler.job(j.id) === undefined);
    for (const job of [...running, ...this.#history]) {
      const meta = await loadJobMeta(repo, job.id);
      if (meta === null) continue;
      this.#names.set(job.id, meta.name);
      if (meta.rhsSeed !== undefined) this.#rhsSeeds.set(job.id, meta.rhsSeed);
      if (meta.worstRelResidual !== undefined)
        this.#view.setSavedWorstResidual(job.id, meta.worstRelResidual);
    }
    for (const job of running) {
      this.#view.loadUnitResiduals((await repo.loadVerifiedResults(job.id)).values());
      await loadViewSnapshot(repo, this.#view, job.id);
      this.#snapshotAtMs.set(job.id, this.#now());
    }
  }

  #listen(): void {
    const { link } = this.#o;
    this.#offs.push(
      link.onBody((event) => {
        if (!this.#closed) this.#intake.onBody(event);
      }),
      // Solutions arrive as blobs just before their result body (put is idempotent if the volunteer
      // runtime of this tab feeds the same cache).
      link.onBlob((_from, sha256, bytes) => this.#o.cache.put(sha256, bytes)),
      link.onDist((from, env) => {
        if (!this.#closed) this.#distributed.onMessage(from, env);
      }),
      link.onPeerClosed((peerId) => {
        this.#blobs.forget(peerId);
        this.scheduler.onDisconnect(peerId);
        this.#kick();
      }),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    for (const off of this.#offs) off();
    this.#distributed.stopAll();
  }

  /** Resolves once everything changed so far is in IndexedDB. */
  async flush(): Promise<void> {
    this.#persist();
    await this.#saving;
  }

  // ── submitting and cancelling ───────────────────────────────────────────────────────────────────────

  async submit(input: SubmitInput): Promise<string> {
    const { id, nowMs, plan, matrix, matrixBytes, rhs, rhsBytes } = await prepareSubmission(
      input,
      this.#now,
      this.#random,
    );
    const { repo } = this.#o;
    // Inputs and name first: a job row in IndexedDB always finds its inputs after a reload.
    await repo.putBlob(matrix.sha256, matrixBytes, nowMs);
    for (let i = 0; i < rhs.length; i++) await repo.putBlob(rhs[i]!.sha256, rhsBytes[i]!, nowMs);
    const rhsSeed = input.rhsSeed;
    await saveJobMeta(
      repo,
      id,
      { name: input.name.slice(0, 200), ...(rhsSeed === undefined ? {} : { rhsSeed }) },
      nowMs,
    );
    this.#inputs.remember(matrix.sha256, matrixBytes, input.a);
    for (let i = 0; i < rhs.length; i++) this.#inputs.remember(rhs[i]!.sha256, rhsBytes[i]!, input.rhs[i]!);
    this.#names.set(id, input.name);
    if (rhsSeed !== undefined) this.#rhsSeeds.set(id, rhsSeed);
    this.#snapshotAtMs.set(id, nowMs);
    this.scheduler.addJob(plan.job, plan.units);
    await this.flush();
    this.#kick();
    return id;
  }

  async cancel(jobId: string): Promise<void> {
    if (!this.scheduler.cancelJob(jobId)) {
      const job = this.scheduler.job(jobId) ?? this.#history.find((j) => j.id === jobId);
      if (job === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
      return;
    }
    this.#kick();
    await this.flush();
  }

  /**
   * Deletes a finished job: from the scheduler, this session's views and IndexedDB (units, results, name,
   * view, and inputs no other job uses; JobStore.deleteJob). A running job is refused: cancel it first.
   */
  async deleteJob(jobId: string): Promise<void> {
    const job = this.scheduler.job(jobId) ?? this.#history.find((j) => j.id === jobId);
    if (job === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
    if (job.status === "running") {
      throw new JobError("invalid_state", "the job is running: cancel it before deleting it");
    }
    await this.flush();
    await this.#snapshotSaves.get(jobId);
    this.scheduler.forgetJob(jobId);
    this.#history = this.#history.filter((j) => j.id !== jobId);
    this.#historyUnits.delete(jobId);
    this.#names.delete(jobId);
    this.#rhsSeeds.delete(jobId);
    this.#snapshotAtMs.delete(jobId);
    await this.#o.repo.deleteJob(jobId);
    this.#o.onChange?.();
  }

  /** The job as one JSON-ready document (job-export.ts); `pageUrl` is where its downloads are. */
  async exportJob(jobId: string, pageUrl: string): Promise<JobExport> {
    const job = this.scheduler.job(jobId) ?? this.#history.find((j) => j.id === jobId);
    if (job === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
    const units = this.units(jobId).length > 0 ? this.units(jobId) : await this.loadUnits(jobId);
    const verified = await this.#o.repo.loadVerifiedResults(jobId);
    return jobExport(job, this.nameOf(jobId), this.rhsSeed(jobId), units, verified, pageUrl, this.#now());
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────────────

  /** This session's and running jobs (scheduler), then earlier finished ones; newest first. */
  jobs(): SolveJob[] {
    const live = this.scheduler.jobs();
    const ids = new Set(live.map((j) => j.id));
    return [...live, ...this.#history.filter((j) => !ids.has(j.id))].sort(
      (p, q) => q.createdAtMs - p.createdAtMs,
    );
  }

  nameOf(jobId: string): string {
    return this.#names.get(jobId) ?? jobId;
  }

  units(jobId: string): WorkUnit[] {
    const live = this.scheduler.unitsOf(jobId);
    return live.length > 0 ? live : (this.#historyUnits.get(jobId) ?? []);
  }

  /** Loads the units of an earlier job (for the dashboard's detail view). */
  async loadUnits(jobId: string): Promise<WorkUnit[]> {
    if (this.scheduler.job(jobId) !== undefined) return this.scheduler.unitsOf(jobId);
    const units = await this.#o.repo.loadUnits(jobId);
    this.#historyUnits.set(jobId, units);
    this.#view.loadUnitResiduals((await this.#o.repo.loadVerifiedResults(jobId)).values());
    await loadViewSnapshot(this.#o.repo, this.#view, jobId);
    this.#o.onChange?.();
    return units;
  }

  progressOf(unitId: string): UnitLiveProgress | null {
    return this.#view.progressOf(unitId);
  }

  unitResidual(unitId: string): number | null {
    return this.#view.unitResidual(unitId);
  }

  /** The lines of a job's residual chart: one per unit (per right-hand side), each ending certified. */
  residualSeries(jobId: string): readonly ResidualSeries[] {
    return this.#view.residualSeries(jobId);
  }

  /** What a verified unit's result claimed: final iteration and the volunteer's own residual. */
  unitClaims(unitId: string): UnitClaims | null {
    return this.#view.unitClaims(unitId);
  }

  /** The worst certified residual saved when the job finished (for jobs whose units are not loaded). */
  savedWorstResidual(jobId: string): number | null {
    return this.#view.savedWorstResidual(jobId);
  }

  /** The seed the job's random right-hand sides were made from; null if b was not random. */
  rhsSeed(jobId: string): number | null {
    return this.#rhsSeeds.get(jobId) ?? null;
  }

  /** The job's right-hand sides, in order (read from IndexedDB: b can be downloaded to check x). */
  async rightHandSides(jobId: string): Promise<Float64Array[]> {
    const job = this.scheduler.job(jobId) ?? this.#history.find((j) => j.id === jobId);
    if (job === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
    const rows = job.spec.matrix.rows;
    return Promise.all(
      job.spec.rhs.map(async (ref) => {
        const bytes = await this.#o.repo.getBlob(ref.sha256);
        if (bytes === undefined)
          throw new JobError("invalid_state", `right-hand side ${ref.sha256} is not stored`);
        return decodeVector(new Uint8Array(bytes), rows);
      }),
    );
  }

  resultsReceived(unitId: string): number {
    return this.#view.resultsReceived(unitId);
  }

  /** The verified solutions of a job, one per right-hand side in order. */
  async solutions(jobId: string): Promise<Float64Array[]> {
    return (await this.certifiedSolutions(jobId)).xs;
  }

  /** The verified solutions and this tab's certificate ‖b − Ax‖/‖b‖ of each, per right-hand side in order. */
  async certifiedSolutions(jobId: string): Promise<{ xs: Float64Array[]; relResiduals: number[] }> {
    const units = this.units(jobId).length > 0 ? this.units(jobId) : await this.loadUnits(jobId);
    if (units.length === 0) throw new JobError("unknown_job", `no job ${jobId}`);
    const rows = await this.#o.repo.loadVerifiedResults(jobId);
    const xs: Float64Array[] = [];
    const relResiduals: number[] = [];
    for (const unit of [...units].sort((p, q) => p.index - q.index)) {
      const row = rows.get(unit.id);
      if (unit.status !== "done" || row === undefined) {
        throw new JobError("invalid_state", `unit ${unit.id} has no verified result (it is ${unit.status})`);
      }
      xs.push(...row.xs);
      // A distributed solve stores x whole on block 0 (the other blocks carry no vector).
      relResiduals.push(...(row.relResiduals ?? []).slice(0, row.xs.length));
    }
    return { xs, relResiduals };
  }

  /** Failovers, iterations and certificate of this session's finished distributed solves. */
  distributedStats(
    jobId: string,
  ): { failovers: number; blamed: number; iterations: number; relResidual: number; label: string } | null {
    return this.#view.distributedStats(jobId);
  }

  // ── ticking ─────────────────────────────────────────────────────────────────────────────────────────

  #kick(): void {
    if (this.#kicked || this.#closed) return;
    this.#kicked = true;
    queueMicrotask(() => {
      this.#kicked = false;
      if (!this.#closed) this.#tick();
    });
  }

  #tick(): void {
    this.scheduler.volunteersChanged(this.#o.volunteers());
    let finished = false;
    for (const action of this.scheduler.tick()) {
      if (action.type === "assign") void this.#assign(action);
      else if (action.type === "cancel") {
        this.#o.link
          .sendBody(action.volunteerId, {
            type: "unit-cancel",
            jv: JOB_PROTOCOL_VERSION,
            unitId: action.unitId,
            attempt: action.attempt,
            reason: action.reason,
          })
          .catch(() => undefined);
      } else if (action.type === "job-finished") {
        finished = true;
        this.#distributed.stop(action.jobId);
        this.#trackSnapshot(action.jobId, this.#saveSnapshot(action.jobId, true));
      }
    }
    if (finished) this.#inputs.dropUnused(this.scheduler.jobs());
    for (const job of this.scheduler.jobs()) {
      const at = this.#snapshotAtMs.get(job.id);
      if (job.status === "running" && at !== undefined && this.#now() - at >= SNAPSHOT_EVERY_MS)
        this.#trackSnapshot(job.id, this.#saveSnapshot(job.id, false));
    }
    this.#persist();
    this.#o.onChange?.();
  }

  #trackSnapshot(jobId: string, save: Promise<void>): void {
    this.#snapshotSaves.set(jobId, save);
    void save.finally(() => {
      if (this.#snapshotSaves.get(jobId) === save) this.#snapshotSaves.delete(jobId);
    });
  }

  /**
   * Saves what the job's page shows beyond the scheduler's state (view-snapshot.ts), and once the job ended
   * its worst certificate in its meta, so the list shows it after a reload without loading the units.
   */
  async #saveSnapshot(jobId: string, finished: boolean): Promise<void> {
    const nowMs = this.#now();
    this.#snapshotAtMs.set(jobId, nowMs);
    if (finished) this.#snapshotAtMs.delete(jobId);
    const { repo } = this.#o;
    const units = this.units(jobId);
    try {
      await saveViewSnapshot(
        repo,
        this.#view,
        jobId,
        units.map((u) => u.id),
        nowMs,
      );
      if (!finished) return;
      let worst: number | null = null;
      for (const u of units) {
        const r = u.status === "done" ? this.#view.unitResidual(u.id) : null;
        if (r !== null) worst = worst === null ? r : Math.max(worst, r);
      }
      if (worst === null) return;
      this.#view.setSavedWorstResidual(jobId, worst);
      const rhsSeed = this.#rhsSeeds.get(jobId);
      const meta = { name: this.nameOf(jobId).slice(0, 200), worstRelResidual: worst };
      await saveJobMeta(repo, jobId, rhsSeed === undefined ? meta : { ...meta, rhsSeed }, nowMs);
    } catch (error) {
      this.#o.onError?.(`saving the view of job ${jobId} failed: ${String(error)}`);
    }
  }

  #persist(): void {
    this.#saving = this.#saving
      .then(() => this.#o.repo.saveChanges(this.scheduler.drainChanges()))
      .catch((error: unknown) => this.#o.onError?.(`saving job state failed: ${String(error)}`));
  }

  async #assign(action: Extract<SchedulerAction, { type: "assign" }>): Promise<void> {
    const { volunteerId, unitId, attempt } = action;
    try {
      const job = this.scheduler.job(action.jobId);
      const unit = this.scheduler.unit(unitId);
      if (job === undefined || unit === undefined) return;
      if (unit.task.kind === "row-block") {
        await this.#distributed.place(job, unit.task.block, unitId, attempt, volunteerId);
        return;
      }
      const body = assignBody(job, unit, action);
      // The body first, so the volunteer starts heartbeating while the inputs are on their way.
      await this.#o.link.sendBody(volunteerId, body);
      for (const ref of [body.task.matrix, ...body.task.rhs])
        await this.#blobs.ensure(volunteerId, ref.sha256);
    } catch (error) {
      const unit = this.scheduler.unit(unitId);
      if (unit?.status === "leased" && unit.lease?.attempt === attempt) {
        this.#o.onError?.(`assigning ${unitId} to ${volunteerId.slice(0, 10)} failed: ${String(error)}`);
        this.#blobs.forget(volunteerId);
        this.scheduler.onDisconnect(volunteerId);
        this.#kick();
      }
    }
  }
}
