import type { JobStore } from "../job-store.ts";
import type { BlobCache } from "../../base/blob-cache.ts";
import { BlobSender } from "./blob-sender.ts";
import { JobError } from "../../protocol/job-errors.ts";
import type { JobLink } from "../job-link.ts";
import { saveJobMeta } from "./job-meta.ts";
import type { SolveJob, VolunteerInfo, WorkUnit } from "../model.ts";
import { ReputationBook } from "../../trust/reputation.ts";
import { RequesterDistributedSolves } from "../distributed/index.ts";
import type { HaloRouting } from "../../distributed/index.ts";
import { RequesterInputs } from "./inputs.ts";
import { RequesterResultIntake } from "./intake.ts";
import { prepareSubmission, type SubmitInput } from "./submit.ts";
import { loadViewSnapshot } from "./view-snapshot.ts";
import { jobExport, type JobExport } from "./job-export.ts";
import { Scheduler, type SchedulerOptions } from "../scheduler/scheduler.ts";
import { Assigner } from "./assigner.ts";
import { RequesterReadModel } from "./read-model.ts";
import { SnapshotSaver } from "./snapshot-saver.ts";
import { certifiedSolutions, rightHandSides } from "./solutions.ts";
import { WriteBehind } from "./write-behind.ts";

export type { SubmitInput } from "./submit.ts";
export type { ResidualSeries } from "./view.ts";

/**
 * The requester of a tab: owns the jobs this tab submitted, runs the scheduler (scheduler.ts) against the
 * swarm through a JobLink, verifies every result itself (intake.ts, verify.ts: one SpMV
 * per solution) and keeps everything in IndexedDB (JobStore), so a reload resumes: leased units are
 * reissued, received but unverified results are verified again, verified units are never recomputed.
 *
 * Event flow: a message or a directory change goes into the scheduler; `#kick()` runs `tick()` soon after
 * (and a timer runs it every second); its actions are carried out (assigner.ts: signed bodies plus the
 * input blobs the volunteer does not have yet; row blocks of distributed solves go to
 * jobs/distributed/requester.ts). Writes (the scheduler's changes, results, verified marks) gather in
 * write-behind.ts and reach IndexedDB as one transaction per FLUSH_MS, in the order they happened. What
 * views show beyond the scheduler's state is kept in view.ts (saved by snapshot-saver.ts); names, seeds
 * and earlier jobs in job-catalog.ts; the job inputs in inputs.ts.
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
  /** How long writes gather before they are stored in one transaction (default FLUSH_MS). */
  readonly flushMs?: number;
  /** Called after anything a view shows changed (often: throttle in the view layer). */
  /** How distributed solves route halos (default "coordinator"; "peer": jobs/distributed/halo-inbox.ts). */
  readonly distributedHaloRouting?: HaloRouting;
  readonly onChange?: () => void;
  readonly onError?: (message: string) => void;
}

/** How long writes gather before they go to IndexedDB in one transaction (write-behind.ts). */
const FLUSH_MS = 100;

export class RequesterRuntime extends RequesterReadModel {
  readonly scheduler: Scheduler;
  readonly #o: RequesterRuntimeOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Input blobs of running jobs (also in IndexedDB), and their decoded forms for verification. */
  readonly #inputs: RequesterInputs;
  /** Blobs sent (or being sent) to each volunteer in this session. */
  readonly #blobs: BlobSender;
  readonly #writes: WriteBehind;
  readonly #snapshots: SnapshotSaver;
  readonly #assigner: Assigner;
  /** Volunteers' messages and results in, verified results out (to the scheduler and IndexedDB). */
  readonly #intake: RequesterResultIntake;
  /** Distributed solves of this session (a run is created at its job's first placement). */
  readonly #distributed: RequesterDistributedSolves;
  readonly #offs: (() => void)[] = [];
  #kicked = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  private constructor(options: RequesterRuntimeOptions, scheduler: Scheduler) {
    super(scheduler);
    this.#o = options;
    this.#now = options.nowMs ?? (() => Date.now());
    this.#random = options.random ?? Math.random;
    this.scheduler = scheduler;
    const onChange = () => this.#o.onChange?.();
    const kick = () => this.#kick();
    const flush = () => this.flush();
    this.#writes = new WriteBehind({
      store: options.repo,
      drainChanges: () => scheduler.drainChanges(),
      delayMs: options.flushMs ?? FLUSH_MS,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    this.#snapshots = new SnapshotSaver({
      repo: options.repo,
      view: this.view,
      now: this.#now,
      units: (jobId) => this.units(jobId),
      nameOf: (jobId) => this.nameOf(jobId),
      rhsSeed: (jobId) => this.catalog.rhsSeed(jobId),
      ...(options.onError ? { onError: options.onError } : {}),
    });
    this.#inputs = new RequesterInputs(options.repo);
    this.#blobs = new BlobSender(
      (sha256) => this.#inputs.bytes(sha256),
      (volunteerId, bytes) => this.#o.link.sendBlob(volunteerId, bytes),
    );
    this.#intake = new RequesterResultIntake({
      scheduler,
      verify: {
        scheduler,
        inputs: this.#inputs,
        markVerified: (mark) => this.#writes.markVerified(mark),
        view: this.view,
      },
      view: this.view,
      repo: options.repo,
      writes: this.#writes,
      cache: options.cache,
      now: this.#now,
      blobWaitMs: options.blobWaitMs ?? 30_000,
      forgetBlobs: (volunteerId) => this.#blobs.forget(volunteerId),
      kick,
      onChange,
      sendVerdict: (to, body) => void this.#o.link.sendBody(to, body).catch(() => undefined),
    });
    this.#distributed = new RequesterDistributedSolves({
      scheduler,
      inputs: this.#inputs,
      link: options.link,
      repo: options.repo,
      view: this.view,
      now: this.#now,
      // Heartbeat period the scheduler expects (sent to block holders with their data).
      heartbeatIntervalMs: options.scheduler?.heartbeatIntervalMs ?? 1_000,
      ...(options.distributedHaloRouting ? { haloRouting: options.distributedHaloRouting } : {}),
      flush,
      kick,
      onChange,
      onError: (message) => this.#o.onError?.(message),
    });
    this.#assigner = new Assigner({
      scheduler,
      link: options.link,
      blobs: this.#blobs,
      distributed: this.#distributed,
      kick,
      ...(options.onError ? { onError: options.onError } : {}),
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
    await this.catalog.load(repo, this.view, running);
    for (const job of running) {
      this.view.loadUnitResiduals((await repo.loadVerifiedResults(job.id)).values());
      await loadViewSnapshot(repo, this.view, job.id);
      this.#snapshots.started(job.id);
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

  /** Stops listening and ticking; what was queued for IndexedDB is still stored (await flush()). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    for (const off of this.#offs) off();
    this.#distributed.stopAll();
    void this.flush();
  }

  /** Resolves once everything changed so far is in IndexedDB (a failure is reported through onError). */
  async flush(): Promise<void> {
    await this.#writes.flush().catch(() => undefined);
  }

  // ── submitting and cancelling ───────────────────────────────────────────────────────────────────────

  async submit(input: SubmitInput): Promise<string> {
    const { id, nowMs, plan, matrix, matrixBytes, rhs, rhsBytes } = await prepareSubmission(
      input,
      this.#now,
      this.#random,
    );
    // Inputs and name first, in one transaction: a job row in IndexedDB always finds its inputs.
    const rhsSeed = input.rhsSeed;
    const meta = { name: input.name.slice(0, 200), ...(rhsSeed === undefined ? {} : { rhsSeed }) };
    const inputs = [matrix, ...rhs].map((ref, i) => ({
      sha256: ref.sha256,
      bytes: i === 0 ? matrixBytes : rhsBytes[i - 1]!,
      nowMs,
    }));
    await saveJobMeta(this.#o.repo, id, meta, nowMs, inputs);
    this.#inputs.remember(matrix.sha256, matrixBytes, input.a);
    for (let i = 0; i < rhs.length; i++) this.#inputs.remember(rhs[i]!.sha256, rhsBytes[i]!, input.rhs[i]!);
    this.catalog.remember(id, input.name, rhsSeed);
    this.#snapshots.started(id);
    this.scheduler.addJob(plan.job, plan.units);
    await this.flush();
    this.#kick();
    return id;
  }

  async cancel(jobId: string): Promise<void> {
    if (!this.scheduler.cancelJob(jobId)) {
      if (this.catalog.find(jobId) === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
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
    const job = this.catalog.find(jobId);
    if (job === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
    if (job.status === "running") {
      throw new JobError("invalid_state", "the job is running: cancel it before deleting it");
    }
    await this.flush();
    await this.#snapshots.forget(jobId);
    this.scheduler.forgetJob(jobId);
    this.catalog.forget(jobId);
    await this.#o.repo.deleteJob(jobId);
    this.#o.onChange?.();
  }

  /** The job as one JSON-ready document (job-export.ts); `pageUrl` is where its downloads are. */
  async exportJob(jobId: string, pageUrl: string): Promise<JobExport> {
    const job = this.catalog.find(jobId);
    if (job === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
    const units = this.units(jobId).length > 0 ? this.units(jobId) : await this.loadUnits(jobId);
    await this.flush();
    const verified = await this.#o.repo.loadVerifiedResults(jobId);
    return jobExport(job, this.nameOf(jobId), this.rhsSeed(jobId), units, verified, pageUrl, this.#now());
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────────────

  /** Loads the units of an earlier job (for the dashboard's detail view). */
  async loadUnits(jobId: string): Promise<WorkUnit[]> {
    if (this.scheduler.job(jobId) !== undefined) return this.scheduler.unitsOf(jobId);
    const units = await this.#o.repo.loadUnits(jobId);
    this.view.loadUnitResiduals((await this.#o.repo.loadVerifiedResults(jobId)).values());
    await loadViewSnapshot(this.#o.repo, this.view, jobId);
    // Shown only once what they show is loaded (views keep a finished job's unit views: state/jobs/views.ts).
    this.catalog.setHistoryUnits(jobId, units);
    this.#o.onChange?.();
    return units;
  }

  /** The job's right-hand sides, in order (read from IndexedDB: b can be downloaded to check x). */
  async rightHandSides(jobId: string): Promise<Float64Array[]> {
    const job = this.catalog.find(jobId);
    if (job === undefined) throw new JobError("unknown_job", `no job ${jobId}`);
    return rightHandSides(this.#o.repo, job);
  }

  /** The verified solutions of a job, one per right-hand side in order. */
  async solutions(jobId: string): Promise<Float64Array[]> {
    return (await this.certifiedSolutions(jobId)).xs;
  }

  /** The verified solutions and this tab's certificate ‖b − Ax‖/‖b‖ of each, per right-hand side in order. */
  async certifiedSolutions(jobId: string): Promise<{ xs: Float64Array[]; relResiduals: number[] }> {
    const units = this.units(jobId).length > 0 ? this.units(jobId) : await this.loadUnits(jobId);
    if (units.length === 0) throw new JobError("unknown_job", `no job ${jobId}`);
    // The last verified results may still be queued for IndexedDB.
    await this.flush();
    return certifiedSolutions(units, await this.#o.repo.loadVerifiedResults(jobId));
  }

  /** A distributed solve's checkpoints: the last one this session persisted, the one it resumed from. */
  distributedCheckpoint(jobId: string): { persisted: number | null; resumedFrom: number | null } {
    return {
      persisted: this.#distributed.persistedCheckpoint(jobId),
      resumedFrom: this.#distributed.resumedFrom(jobId),
    };
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
      if (action.type === "assign") void this.#assigner.assign(action);
      else if (action.type === "cancel") this.#assigner.cancel(action);
      else if (action.type === "job-finished") {
        finished = true;
        this.#distributed.stop(action.jobId);
        this.#snapshots.finished(action.jobId);
      }
    }
    if (finished) this.#inputs.dropUnused(this.scheduler.jobs());
    this.#snapshots.saveDue(this.scheduler.jobs());
    this.#writes.schedule();
    this.#o.onChange?.();
  }
}
