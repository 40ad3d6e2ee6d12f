import type { JobRepository } from "../ledger/job-repository.ts";
import type { CsrMatrix } from "../sparse/csr.ts";
import type { MethodName, PreconditionerName } from "../solver/types.ts";
import { assignBody } from "./assign-body.ts";
import type { BlobCache } from "./blob-cache.ts";
import type { DistEnvelope } from "./dist-wire.ts";
import { DistributedRun } from "./distributed-run.ts";
import type { DistributedResult } from "../distributed/index.ts";
import { JobError } from "./errors.ts";
import type { JobBodyEvent, JobLink } from "./job-link.ts";
import { loadJobMeta, saveJobMeta } from "./job-meta.ts";
import { JOB_PROTOCOL_VERSION, type UnitProgress, type UnitResultMessage } from "./messages.ts";
import {
  newJobId,
  type Job,
  type JobKind,
  type MatrixRef,
  type UnitBackend,
  type VolunteerInfo,
  type WorkUnit,
} from "./model.ts";
import { blobRefOf, decodeCsr, decodeVector, encodeCsr, encodeVector } from "./payload.ts";
import { ReputationBook } from "./reputation.ts";
import { checkUnitResult } from "./result-check.ts";
import type { ReverifyItem } from "./resume.ts";
import {
  Scheduler,
  type SchedulerAction,
  type SchedulerOptions,
  type VerificationVerdict,
} from "./scheduler.ts";
import { partitionRows } from "./partition.ts";
import { planJob, solveCostFlops } from "./split.ts";

/**
 * The requester of a tab: owns the jobs this tab submitted, runs the scheduler (scheduler.ts) against the
 * swarm through a JobLink, verifies every result itself (result-check.ts, one SpMV per solution) and keeps
 * everything in IndexedDB (JobRepository), so a reload resumes: leased units are reissued, received but
 * unverified results are verified again, verified units are never recomputed.
 *
 * Event flow: a message or a directory change goes into the scheduler; `#kick()` runs `tick()` soon after
 * (and a timer runs it every second); its actions are carried out (assignments are signed bodies plus the
 * input blobs the volunteer does not have yet); then the scheduler's changes are saved in one transaction.
 * Saves are chained, so they reach IndexedDB in the order they happened.
 */

export interface SubmitInput {
  readonly name: string;
  readonly kind: JobKind;
  readonly a: CsrMatrix;
  readonly rhs: readonly Float64Array[];
  readonly method: MethodName;
  readonly preconditioner?: PreconditionerName;
  readonly tol: number;
  readonly maxIter: number;
  readonly rhsPerUnit?: number;
  readonly backend?: UnitBackend;
  /** distributed-solve: number of row blocks (≥ 2). */
  readonly blocks?: number;
}

export interface UnitLiveProgress {
  readonly attempt: number;
  readonly rhsDone: number;
  readonly rhsTotal: number;
  readonly iteration: number;
  readonly relResidual: number | null;
  readonly backend: UnitProgress["backend"];
}

export interface RequesterRuntimeOptions {
  readonly link: JobLink;
  readonly repo: JobRepository;
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

const RESIDUAL_HISTORY_CAP = 2_000;
const HISTORY_JOBS = 50;

export class RequesterRuntime {
  readonly scheduler: Scheduler;
  readonly #o: RequesterRuntimeOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Input blobs of running jobs (also in IndexedDB), and their decoded forms for verification. */
  readonly #inputs = new Map<string, Uint8Array<ArrayBuffer>>();
  readonly #decoded = new Map<string, CsrMatrix | Float64Array>();
  /** Blobs sent (or being sent) to each volunteer in this session. */
  readonly #sent = new Map<string, Map<string, Promise<void>>>();
  readonly #names = new Map<string, string>();
  /** Finished jobs from earlier sessions (the scheduler holds this session's and the running ones). */
  #history: Job[] = [];
  readonly #historyUnits = new Map<string, WorkUnit[]>();
  readonly #progress = new Map<string, UnitLiveProgress>();
  /** The requester's own certificate per verified unit (worst over its solutions). */
  readonly #unitResidual = new Map<string, number>();
  readonly #residualHistory = new Map<string, { iteration: number; residual: number }[]>();
  /** unit-result bodies received per unit id (accepted or not). */
  readonly #resultsReceived = new Map<string, number>();
  readonly #offs: (() => void)[] = [];
  #saving: Promise<void> = Promise.resolve();
  #kicked = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  /** Distributed solves of this session, by job id (created at their first placement; see #assignBlock). */
  readonly #distributedStats = new Map<
    string,
    { failovers: number; iterations: number; relResidual: number; label: string }
  >();
  readonly #runs = new Map<string, Promise<DistributedRun>>();
  /** Heartbeat period the scheduler expects (sent to block holders with their data). */
  readonly #heartbeatIntervalMs: number;

  private constructor(options: RequesterRuntimeOptions, scheduler: Scheduler) {
    this.#o = options;
    this.#now = options.nowMs ?? (() => Date.now());
    this.#random = options.random ?? Math.random;
    this.scheduler = scheduler;
    this.#heartbeatIntervalMs = options.scheduler?.heartbeatIntervalMs ?? 1_000;
  }

  /** Resumes the persisted state (repo.resumeState), then starts ticking. */
  static async start(options: RequesterRuntimeOptions): Promise<RequesterRuntime> {
    const nowMs = options.nowMs ?? (() => Date.now());
    const state = await options.repo.resumeState(nowMs());
    const scheduler = new Scheduler({
      heartbeatIntervalMs: 1_000,
      heartbeatTimeoutMs: 8_000,
      ...options.scheduler,
      nowMs,
      random: options.random ?? Math.random,
      reputation: new ReputationBook(state.reputation),
    });
    scheduler.restore({ jobs: state.jobs, units: state.units });
    const rt = new RequesterRuntime(options, scheduler);
    await rt.#load(state.jobs);
    rt.#listen();
    for (const item of state.reverify) void rt.#reverify(item);
    rt.#timer = setInterval(() => rt.#kick(), options.tickMs ?? 1_000);
    rt.#kick();
    return rt;
  }

  async #load(running: readonly Job[]): Promise<void> {
    const { repo } = this.#o;
    const all = await repo.listJobs(HISTORY_JOBS);
    this.#history = all.filter((j) => j.status !== "running" && this.scheduler.job(j.id) === undefined);
    for (const job of [...running, ...this.#history]) {
      const meta = await loadJobMeta(repo, job.id);
      if (meta !== null) this.#names.set(job.id, meta.name);
    }
    for (const job of running) {
      for (const row of (await repo.loadVerifiedResults(job.id)).values()) {
        if (row.relResiduals !== null) this.#unitResidual.set(row.unitId, Math.max(...row.relResiduals));
      }
    }
  }

  #listen(): void {
    const { link } = this.#o;
    this.#offs.push(
      link.onBody((event) => this.#onBody(event)),
      // Solutions arrive as blobs just before their result body (put is idempotent if the volunteer
      // runtime of this tab feeds the same cache).
      link.onBlob((_from, sha256, bytes) => this.#o.cache.put(sha256, bytes)),
      link.onDist((from, env) => this.#onDist(from, env)),
      link.onPeerClosed((peerId) => {
        this.#sent.delete(peerId);
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
    for (const run of this.#runs.values()) void run.then((r) => r.stop()).catch(() => undefined);
    this.#runs.clear();
  }

  /** Resolves once everything changed so far is in IndexedDB. */
  async flush(): Promise<void> {
    this.#persist();
    await this.#saving;
  }

  // ── submitting and cancelling ───────────────────────────────────────────────────────────────────────

  async submit(input: SubmitInput): Promise<string> {
    const { a } = input;
    // A distributed solve's units are the row blocks of this partition (partitionRows checks k).
    const partition =
      input.kind === "distributed-solve" && input.blocks !== undefined && Number.isInteger(input.blocks)
        ? partitionRows(a, input.blocks)
        : undefined;
    const nowMs = this.#now();
    const matrixBytes = encodeCsr(a);
    const matrix: MatrixRef = {
      ...(await blobRefOf(matrixBytes)),
      rows: a.rows,
      cols: a.cols,
      nnz: a.rowPtr[a.rows] ?? 0,
    };
    const rhsBytes = input.rhs.map((b) => {
      if (b.length !== a.rows) {
        throw new JobError("invalid-spec", `a right-hand side has ${b.length} entries, A has ${a.rows} rows`);
      }
      return encodeVector(b);
    });
    const rhs = await Promise.all(rhsBytes.map((bytes) => blobRefOf(bytes)));
    const id = newJobId(this.#random);
    const plan = planJob(
      {
        id,
        kind: input.kind,
        tolerance: input.tol,
        createdAtMs: nowMs,
        spec: {
          matrix,
          rhs,
          method: input.method,
          maxIter: input.maxIter,
          ...(input.preconditioner !== undefined ? { preconditioner: input.preconditioner } : {}),
          ...(input.rhsPerUnit !== undefined ? { rhsPerUnit: input.rhsPerUnit } : {}),
          ...(input.backend !== undefined ? { backend: input.backend } : {}),
          ...(input.blocks !== undefined ? { blocks: input.blocks } : {}),
        },
      },
      partition,
    );
    const { repo } = this.#o;
    // Inputs and name first: a job row in IndexedDB always finds its inputs after a reload.
    await repo.putBlob(matrix.sha256, matrixBytes, nowMs);
    for (let i = 0; i < rhs.length; i++) await repo.putBlob(rhs[i]!.sha256, rhsBytes[i]!, nowMs);
    await saveJobMeta(repo, id, { name: input.name.slice(0, 200) }, nowMs);
    this.#inputs.set(matrix.sha256, matrixBytes);
    this.#decoded.set(matrix.sha256, a);
    for (let i = 0; i < rhs.length; i++) {
      this.#inputs.set(rhs[i]!.sha256, rhsBytes[i]!);
      this.#decoded.set(rhs[i]!.sha256, input.rhs[i]!);
    }
    this.#names.set(id, input.name);
    this.scheduler.addJob(plan.job, plan.units);
    await this.flush();
    this.#kick();
    return id;
  }

  async cancel(jobId: string): Promise<void> {
    if (!this.scheduler.cancelJob(jobId)) {
      const job = this.scheduler.job(jobId) ?? this.#history.find((j) => j.id === jobId);
      if (job === undefined) throw new JobError("unknown-job", `no job ${jobId}`);
      return;
    }
    this.#kick();
    await this.flush();
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────────────

  /** This session's and running jobs (scheduler), then earlier finished ones; newest first. */
  jobs(): Job[] {
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
    for (const row of (await this.#o.repo.loadVerifiedResults(jobId)).values()) {
      if (row.relResiduals !== null) this.#unitResidual.set(row.unitId, Math.max(...row.relResiduals));
    }
    this.#o.onChange?.();
    return units;
  }

  progressOf(unitId: string): UnitLiveProgress | null {
    return this.#progress.get(unitId) ?? null;
  }

  unitResidual(unitId: string): number | null {
    return this.#unitResidual.get(unitId) ?? null;
  }

  residualHistory(jobId: string): readonly { iteration: number; residual: number }[] {
    return this.#residualHistory.get(jobId) ?? [];
  }

  resultsReceived(unitId: string): number {
    return this.#resultsReceived.get(unitId) ?? 0;
  }

  /** The verified solutions of a job, one per right-hand side in order. */
  async solutions(jobId: string): Promise<Float64Array[]> {
    const units = this.units(jobId).length > 0 ? this.units(jobId) : await this.loadUnits(jobId);
    if (units.length === 0) throw new JobError("unknown-job", `no job ${jobId}`);
    const rows = await this.#o.repo.loadVerifiedResults(jobId);
    const out: Float64Array[] = [];
    for (const unit of [...units].sort((p, q) => p.index - q.index)) {
      const row = rows.get(unit.id);
      if (unit.status !== "done" || row === undefined) {
        throw new JobError("invalid-state", `unit ${unit.id} has no verified result (it is ${unit.status})`);
      }
      out.push(...row.xs);
    }
    return out;
  }

  // ── events ──────────────────────────────────────────────────────────────────────────────────────────

  #onBody(event: JobBodyEvent): void {
    if (this.#closed) return;
    const { body, from } = event;
    switch (body.type) {
      case "unit-heartbeat":
        this.scheduler.onHeartbeat(body.unitId, body.attempt, from);
        break;
      case "unit-progress":
        if (this.scheduler.onHeartbeat(body.unitId, body.attempt, from) === "ok") this.#onProgress(body);
        break;
      case "unit-error":
        if (body.code !== "declined" && body.code !== "cancelled") this.#sent.delete(from);
        this.scheduler.onUnitError(body.unitId, body.attempt, from, body.code, body.detail);
        break;
      case "unit-result":
        void this.#onResult(from, body, event.envelope);
        break;
      default:
        return; // assignments and cancels are for the volunteer runtime
    }
    this.#kick();
  }

  #onProgress(body: UnitProgress): void {
    this.#progress.set(body.unitId, {
      attempt: body.attempt,
      rhsDone: body.rhsDone,
      rhsTotal: body.rhsTotal,
      iteration: body.iteration,
      relResidual: body.relResidual,
      backend: body.backend,
    });
    const unit = this.scheduler.unit(body.unitId);
    if (unit !== undefined && body.relResidual !== null && body.relResidual > 0) {
      let points = this.#residualHistory.get(unit.jobId);
      if (points === undefined) this.#residualHistory.set(unit.jobId, (points = []));
      points.push({ iteration: body.iteration, residual: body.relResidual });
      if (points.length > RESIDUAL_HISTORY_CAP) points.splice(0, points.length - RESIDUAL_HISTORY_CAP);
    }
    this.#o.onChange?.();
  }

  async #onResult(from: string, body: UnitResultMessage, envelope: string | null): Promise<void> {
    this.#resultsReceived.set(body.unitId, (this.#resultsReceived.get(body.unitId) ?? 0) + 1);
    const unit = this.scheduler.unit(body.unitId);
    const job = unit === undefined ? undefined : this.scheduler.job(unit.jobId);
    if (unit === undefined || job === undefined) return;
    const { rows, nnz } = job.spec.matrix;
    const workFlops = body.solutions.reduce(
      (sum, s) => sum + solveCostFlops(rows, nnz, Math.max(1, s.iterations), 1),
      0,
    );
    const verdict = this.scheduler.onResult(body.unitId, body.attempt, from, workFlops);
    if (verdict !== "accept-for-verification") return;
    const receivedAtMs = this.#now();
    let check: VerificationVerdict;
    let xs: Float64Array[] = [];
    try {
      const waitMs = this.#o.blobWaitMs ?? 30_000;
      xs = await Promise.all(
        body.solutions.map(async (s) => decodeVector(await this.#o.cache.waitFor(s.x.sha256, waitMs), rows)),
      );
      for (const s of body.solutions) this.#o.cache.delete(s.x.sha256);
      // Stored before it is verified: a reload in between verifies it again instead of recomputing it.
      await this.#o.repo.saveResult({
        unitId: body.unitId,
        attempt: body.attempt,
        jobId: job.id,
        volunteerId: from,
        receivedAtMs,
        xs,
        relResiduals: null,
        verified: false,
        envelope,
      });
      await this.flush();
      check = await this.#check(job, body.unitId, xs, body.solutions);
    } catch (error) {
      check = { ok: false, code: "invalid", reason: error instanceof Error ? error.message : String(error) };
    }
    this.#applyVerdict(body.unitId, body.attempt, check);
  }

  async #check(
    job: Job,
    unitId: string,
    xs: readonly Float64Array[],
    claims: UnitResultMessage["solutions"],
  ): Promise<VerificationVerdict> {
    const unit = this.scheduler.unit(unitId);
    if (unit === undefined || unit.task.kind !== "rhs-group") {
      return { ok: false, code: "invalid", reason: `unit ${unitId} is not a right-hand-side group` };
    }
    const a = await this.#matrixOf(job.spec.matrix.sha256);
    const refs = job.spec.rhs.slice(unit.task.rhsStart, unit.task.rhsStart + unit.task.rhsCount);
    const bs = await Promise.all(refs.map((r) => this.#vectorOf(r.sha256, a.rows)));
    const result = checkUnitResult(a, bs, xs, claims, job.tolerance);
    const attempt = unit.result?.attempt ?? unit.attempt;
    if (result.verdict.ok) {
      await this.#o.repo.markResultVerified(unitId, attempt, result.relResiduals);
      this.#unitResidual.set(unitId, Math.max(...result.relResiduals));
    }
    return result.verdict;
  }

  #applyVerdict(unitId: string, attempt: number, verdict: VerificationVerdict): void {
    if (this.scheduler.onVerified(unitId, attempt, verdict) && verdict.ok) {
      const p = this.#progress.get(unitId);
      if (p !== undefined) this.#progress.set(unitId, { ...p, rhsDone: p.rhsTotal });
    }
    this.#kick();
  }

  async #reverify(item: ReverifyItem): Promise<void> {
    const unit = this.scheduler.unit(item.unitId);
    const job = unit === undefined ? undefined : this.scheduler.job(unit.jobId);
    const row = await this.#o.repo.loadResult(item.unitId, item.attempt);
    if (job === undefined || row === undefined) return;
    let verdict: VerificationVerdict;
    try {
      // The stored row has no claims; an unverifiable stored result is simply invalid.
      const claims = row.xs.map(() => ({
        x: { sha256: "0".repeat(64), byteLength: 0 },
        converged: true,
        iterations: 0,
        relResidual: null,
        methodPath: [],
      }));
      verdict = await this.#check(job, item.unitId, row.xs, claims);
    } catch (error) {
      verdict = {
        ok: false,
        code: "invalid",
        reason: error instanceof Error ? error.message : String(error),
      };
    }
    this.#applyVerdict(item.unitId, item.attempt, verdict);
  }

  // ── inputs ──────────────────────────────────────────────────────────────────────────────────────────

  async #inputBytes(sha256: string): Promise<Uint8Array<ArrayBuffer>> {
    const have = this.#inputs.get(sha256);
    if (have !== undefined) return have;
    const stored = await this.#o.repo.getBlob(sha256);
    if (stored === undefined) throw new JobError("invalid-state", `input ${sha256} is not stored`);
    const bytes = new Uint8Array(stored);
    this.#inputs.set(sha256, bytes);
    return bytes;
  }

  async #matrixOf(sha256: string): Promise<CsrMatrix> {
    const have = this.#decoded.get(sha256);
    if (have !== undefined && !(have instanceof Float64Array)) return have;
    const a = decodeCsr(await this.#inputBytes(sha256));
    this.#decoded.set(sha256, a);
    return a;
  }

  async #vectorOf(sha256: string, length: number): Promise<Float64Array> {
    const have = this.#decoded.get(sha256);
    if (have instanceof Float64Array) return have;
    const b = decodeVector(await this.#inputBytes(sha256), length);
    this.#decoded.set(sha256, b);
    return b;
  }

  /** Drops cached inputs no running job uses any more (they stay in IndexedDB). */
  #dropUnusedInputs(): void {
    const used = new Set<string>();
    for (const job of this.scheduler.jobs()) {
      if (job.status !== "running") continue;
      used.add(job.spec.matrix.sha256);
      for (const r of job.spec.rhs) used.add(r.sha256);
    }
    for (const sha of [...this.#inputs.keys()]) if (!used.has(sha)) this.#inputs.delete(sha);
    for (const sha of [...this.#decoded.keys()]) if (!used.has(sha)) this.#decoded.delete(sha);
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
        const run = this.#runs.get(action.jobId);
        this.#runs.delete(action.jobId);
        void run?.then((r) => r.stop()).catch(() => undefined);
      }
    }
    if (finished) this.#dropUnusedInputs();
    this.#persist();
    this.#o.onChange?.();
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
        const run = await this.#runOf(job);
        run.place(unit.task.block, unitId, attempt, volunteerId);
        return;
      }
      const body = assignBody(job, unit, action);
      // The body first, so the volunteer starts heartbeating while the inputs are on their way.
      await this.#o.link.sendBody(volunteerId, body);
      for (const ref of [body.task.matrix, ...body.task.rhs]) await this.#ensureBlob(volunteerId, ref.sha256);
    } catch (error) {
      const unit = this.scheduler.unit(unitId);
      if (unit?.status === "leased" && unit.lease?.attempt === attempt) {
        this.#o.onError?.(`assigning ${unitId} to ${volunteerId.slice(0, 10)} failed: ${String(error)}`);
        this.#sent.delete(volunteerId);
        this.scheduler.onDisconnect(volunteerId);
        this.#kick();
      }
    }
  }

  // ── distributed solves ──────────────────────────────────────────────────────────────────────────────

  /** The job's run, created at its first placement (after a reload too: the solve then starts over). */
  #runOf(job: Job): Promise<DistributedRun> {
    let run = this.#runs.get(job.id);
    if (run === undefined) {
      run = (async () => {
        const a = await this.#matrixOf(job.spec.matrix.sha256);
        const ref = job.spec.rhs[0];
        if (ref === undefined) throw new JobError("invalid-state", `job ${job.id} has no right-hand side`);
        const b = await this.#vectorOf(ref.sha256, a.rows);
        return new DistributedRun({
          jobId: job.id,
          a,
          b,
          blocks: job.spec.blocks ?? 2,
          tol: job.tolerance,
          maxIter: job.spec.maxIter,
          heartbeatIntervalMs: this.#heartbeatIntervalMs,
          send: (to, env) => this.#o.link.sendDist(to, env),
          onIteration: (iteration, rel) => this.#onDistributedIteration(job.id, iteration, rel),
          onResult: (result) => void this.#onDistributedResult(job.id, result),
          onSendFailed: (holder) => {
            const unit = this.scheduler.unit(holder.unitId);
            if (unit?.status === "leased" && unit.lease?.attempt === holder.attempt) {
              this.scheduler.onDisconnect(holder.volunteerId);
              this.#kick();
            }
          },
        });
      })();
      this.#runs.set(job.id, run);
      run.catch((error: unknown) => {
        this.#o.onError?.(`distributed solve ${job.id} could not start: ${String(error)}`);
        if (this.#runs.get(job.id) === run) this.#runs.delete(job.id);
      });
    }
    return run;
  }

  #onDist(from: string, env: DistEnvelope): void {
    if (this.#closed || env.kind !== "from") return;
    const unit = this.scheduler.unit(env.unitId);
    if (unit === undefined) return;
    const run = this.#runs.get(unit.jobId);
    if (run === undefined) return;
    // Any reply of the current holder is as good as a heartbeat.
    this.scheduler.onHeartbeat(env.unitId, env.attempt, from);
    void run.then((r) => r.onMessage(from, env)).catch(() => undefined);
  }

  #onDistributedIteration(jobId: string, iteration: number, relResidual: number): void {
    let points = this.#residualHistory.get(jobId);
    if (points === undefined) this.#residualHistory.set(jobId, (points = []));
    points.push({ iteration, residual: relResidual });
    if (points.length > RESIDUAL_HISTORY_CAP) points.splice(0, points.length - RESIDUAL_HISTORY_CAP);
    for (const unit of this.scheduler.unitsOf(jobId)) {
      if (unit.status !== "leased" || unit.lease === null) continue;
      this.#progress.set(unit.id, {
        attempt: unit.lease.attempt,
        rhsDone: 0,
        rhsTotal: 1,
        iteration,
        relResidual,
        backend: "js",
      });
    }
    this.#o.onChange?.();
  }

  /**
   * The coordinator gathered x and certified it (its relativeResidual is this tab's own f64 check). A
   * converged result is stored on block 0's unit (x whole; the other blocks' rows carry no vector) and
   * every block unit is accepted and verified, crediting its current holder. A result that did not
   * converge is reported as such on every unit (the scheduler then retries or fails the job).
   */
  async #onDistributedResult(jobId: string, result: DistributedResult): Promise<void> {
    const job = this.scheduler.job(jobId);
    if (job === undefined || job.status !== "running") return;
    this.#runs.delete(jobId);
    const receivedAtMs = this.#now();
    const ok = result.converged && result.relResidual <= job.tolerance;
    const units = [...this.scheduler.unitsOf(jobId)].sort((p, q) => p.index - q.index);
    const { nnz } = job.spec.matrix;
    const accepted: { unitId: string; attempt: number }[] = [];
    for (const unit of units) {
      const lease = unit.lease;
      if (unit.status !== "leased" || lease === null || unit.task.kind !== "row-block") continue;
      const blockNnz = Math.ceil(nnz / Math.max(1, unit.task.blocks));
      const workFlops = solveCostFlops(unit.task.rowEnd - unit.task.rowStart, blockNnz, result.iterations, 1);
      if (
        this.scheduler.onResult(unit.id, lease.attempt, lease.volunteerId, workFlops) !==
        "accept-for-verification"
      )
        continue;
      accepted.push({ unitId: unit.id, attempt: lease.attempt });
      await this.#o.repo.saveResult({
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
    await this.flush();
    for (const { unitId, attempt } of accepted) {
      if (ok) {
        await this.#o.repo.markResultVerified(unitId, attempt, [result.relResidual]);
        this.#unitResidual.set(unitId, result.relResidual);
        const p = this.#progress.get(unitId);
        if (p !== undefined) this.#progress.set(unitId, { ...p, rhsDone: 1 });
      }
      this.scheduler.onVerified(
        unitId,
        attempt,
        ok
          ? { ok: true }
          : {
              ok: false,
              code: "not-converged",
              reason:
                `distributed ${result.label} stopped (${result.reason}) after ${result.iterations} iterations ` +
                `with certified residual ${result.relResidual.toExponential(2)}${result.detail ? `: ${result.detail}` : ""}`,
            },
      );
    }
    this.#distributedStats.set(jobId, {
      failovers: result.failovers,
      iterations: result.iterations,
      relResidual: result.relResidual,
      label: result.label,
    });
    this.#kick();
  }

  /** Failovers, iterations and certificate of this session's finished distributed solves. */
  distributedStats(
    jobId: string,
  ): { failovers: number; iterations: number; relResidual: number; label: string } | null {
    return this.#distributedStats.get(jobId) ?? null;
  }

  #ensureBlob(volunteerId: string, sha256: string): Promise<void> {
    let sent = this.#sent.get(volunteerId);
    if (sent === undefined) this.#sent.set(volunteerId, (sent = new Map()));
    const pending = sent.get(sha256);
    if (pending !== undefined) return pending;
    const promise = (async () => {
      const bytes = await this.#inputBytes(sha256);
      await this.#o.link.sendBlob(volunteerId, bytes);
    })();
    sent.set(sha256, promise);
    promise.catch(() => sent.delete(sha256));
    return promise;
  }
}
