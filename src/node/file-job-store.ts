import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  jobOwnedBlobKeys,
  type JobStore,
  type ResultRow,
  type ResumeState,
  type StoreBatch,
} from "../core/jobs/job-store.ts";
import type { SolveJob, WorkUnit } from "../core/jobs/model.ts";
import { resumeUnits, type SchedulerChanges } from "../core/jobs/scheduler/index.ts";
import type { ReputationRecord } from "../core/trust/reputation.ts";

/**
 * The Node requester's JobStore (the tab's is storage/job-repository.ts, in IndexedDB): a directory with
 * `state.json` (jobs, units, reputation: small, rewritten whole), one file per returned result (its
 * solution vectors as base64 of their f64 bytes) and one per input blob, by digest. Every write goes to a
 * temporary file renamed over the old one, so a crash leaves the old or the new state, never half of one;
 * writes are serialised, so `--resume` reads what the last completed call wrote.
 */
interface State {
  jobs: Record<string, SolveJob>;
  units: Record<string, WorkUnit>;
  reputation: Record<string, ReputationRecord>;
}

interface ResultFile extends Omit<ResultRow, "xs"> {
  readonly xs: string[];
}

const encodeF64 = (x: Float64Array): string =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64");

function decodeF64(text: string): Float64Array {
  const bytes = Buffer.from(text, "base64");
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}

const resultName = (unitId: string, attempt: number): string =>
  `${encodeURIComponent(unitId)}@${attempt}.json`;

export class FileJobStore implements JobStore {
  #state: State | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  saveChanges(changes: SchedulerChanges): Promise<void> {
    return this.#mutate((s) => {
      for (const job of changes.jobs) s.jobs[job.id] = job;
      for (const unit of changes.units) s.units[unit.id] = unit;
      for (const r of changes.reputation) s.reputation[r.volunteerId] = r;
    });
  }

  /**
   * Files cannot share one transaction: blobs, results and verified marks are written first and
   * state.json last, so the state never names a result or an input that is not on disk yet.
   */
  saveBatch(batch: StoreBatch): Promise<void> {
    return this.#serial(async () => {
      for (const b of batch.blobs) await this.#atomicWrite(this.#blobPath(b.sha256), b.bytes);
      for (const row of batch.results) await this.#writeResult(row);
      for (const v of batch.verified) {
        const row = await this.#readResult(resultName(v.unitId, v.attempt));
        if (row) await this.#writeResult({ ...row, verified: true, relResiduals: [...v.relResiduals] });
      }
      const s = await this.#read();
      const { jobs, units, reputation } = batch.changes;
      if (jobs.length + units.length + reputation.length === 0) return;
      for (const job of jobs) s.jobs[job.id] = job;
      for (const unit of units) s.units[unit.id] = unit;
      for (const r of reputation) s.reputation[r.volunteerId] = r;
      await this.#atomicWrite(this.#path("state.json"), JSON.stringify(s));
    });
  }

  saveJob(job: SolveJob, units: readonly WorkUnit[] = []): Promise<void> {
    return this.#mutate((s) => {
      s.jobs[job.id] = job;
      for (const unit of units) s.units[unit.id] = unit;
    });
  }

  async loadJob(jobId: string): Promise<SolveJob | undefined> {
    return (await this.#load()).jobs[jobId];
  }

  async listJobs(limit = 100): Promise<SolveJob[]> {
    const jobs = Object.values((await this.#load()).jobs);
    return jobs.sort((p, q) => q.createdAtMs - p.createdAtMs).slice(0, limit);
  }

  async loadUnits(jobId: string): Promise<WorkUnit[]> {
    const units = Object.values((await this.#load()).units).filter((u) => u.jobId === jobId);
    return units.sort((p, q) => p.index - q.index);
  }

  saveResult(row: ResultRow): Promise<void> {
    return this.#serial(() => this.#writeResult(row));
  }

  async loadResult(unitId: string, attempt: number): Promise<ResultRow | undefined> {
    await this.#queue;
    return this.#readResult(resultName(unitId, attempt));
  }

  markResultVerified(unitId: string, attempt: number, relResiduals: readonly number[]): Promise<void> {
    return this.#serial(async () => {
      const row = await this.#readResult(resultName(unitId, attempt));
      if (row) await this.#writeResult({ ...row, verified: true, relResiduals: [...relResiduals] });
    });
  }

  async loadVerifiedResults(jobId: string): Promise<Map<string, ResultRow>> {
    await this.#queue;
    const names = await readdir(this.#path("results")).catch(() => [] as string[]);
    const prefix = encodeURIComponent(`${jobId}/`);
    const rows = new Map<string, ResultRow>();
    for (const name of names.filter((n) => n.startsWith(prefix))) {
      const row = await this.#readResult(name);
      if (row?.verified && row.jobId === jobId) rows.set(row.unitId, row);
    }
    return rows;
  }

  putBlob(sha256: string, bytes: Uint8Array): Promise<void> {
    return this.#serial(() => this.#atomicWrite(this.#blobPath(sha256), bytes));
  }

  async getBlob(sha256: string): Promise<Uint8Array | undefined> {
    await this.#queue;
    try {
      return new Uint8Array(await readFile(this.#blobPath(sha256)));
    } catch {
      return undefined;
    }
  }

  async loadReputation(): Promise<ReputationRecord[]> {
    return Object.values((await this.#load()).reputation);
  }

  deleteJob(jobId: string): Promise<void> {
    return this.#mutate(async (s) => {
      const job = s.jobs[jobId];
      delete s.jobs[jobId];
      for (const unit of Object.values(s.units)) if (unit.jobId === jobId) delete s.units[unit.id];
      const names = await readdir(this.#path("results")).catch(() => [] as string[]);
      const prefix = encodeURIComponent(`${jobId}/`);
      for (const name of names.filter((n) => n.startsWith(prefix))) await rm(this.#path("results", name));
      const blobs = new Set(jobOwnedBlobKeys(jobId));
      if (job) {
        const inputs = new Set([job.spec.matrix.sha256, ...job.spec.rhs.map((r) => r.sha256)]);
        for (const other of Object.values(s.jobs)) {
          inputs.delete(other.spec.matrix.sha256);
          for (const r of other.spec.rhs) inputs.delete(r.sha256);
        }
        for (const sha of inputs) blobs.add(sha);
      }
      for (const sha of blobs) await rm(this.#blobPath(sha), { force: true });
    });
  }

  async resumeState(nowMs: number): Promise<ResumeState> {
    let result: ResumeState | null = null;
    await this.#mutate(async (s) => {
      const jobs = Object.values(s.jobs).filter((j) => j.status === "running");
      const ids = new Set(jobs.map((j) => j.id));
      const units = Object.values(s.units).filter((u) => ids.has(u.jobId));
      const stored = new Set<string>();
      for (const u of units) {
        if (u.status !== "verifying" || u.result === null) continue;
        if (await this.#readResult(resultName(u.id, u.result.attempt)))
          stored.add(`${u.id}#${u.result.attempt}`);
      }
      const resumed = resumeUnits(units, nowMs, (id, attempt) => stored.has(`${id}#${attempt}`));
      for (const unit of resumed.units) s.units[unit.id] = unit;
      result = {
        jobs,
        units: resumed.units,
        reputation: Object.values(s.reputation),
        reverify: resumed.reverify,
      };
    });
    return result!;
  }

  // ── files ───────────────────────────────────────────────────────────────────────────────────────────

  #path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Blob keys are digests or `meta/<job>`, `view/<job>`: encoded so none escapes the directory. */
  #blobPath(key: string): string {
    return this.#path("blobs", encodeURIComponent(key));
  }

  /** After the writes queued so far. */
  async #load(): Promise<State> {
    await this.#queue;
    return this.#read();
  }

  async #read(): Promise<State> {
    if (this.#state) return this.#state;
    try {
      this.#state = JSON.parse(await readFile(this.#path("state.json"), "utf8")) as State;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      this.#state = { jobs: {}, units: {}, reputation: {} };
    }
    return this.#state;
  }

  #mutate(change: (s: State) => void | Promise<void>): Promise<void> {
    return this.#serial(async () => {
      const state = await this.#read();
      await change(state);
      await this.#atomicWrite(this.#path("state.json"), JSON.stringify(this.#state));
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #atomicWrite(file: string, data: string | Uint8Array): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, file);
  }

  async #writeResult(row: ResultRow): Promise<void> {
    const file: ResultFile = { ...row, xs: row.xs.map(encodeF64) };
    await this.#atomicWrite(this.#path("results", resultName(row.unitId, row.attempt)), JSON.stringify(file));
  }

  async #readResult(name: string): Promise<ResultRow | undefined> {
    try {
      const file = JSON.parse(await readFile(this.#path("results", name), "utf8")) as ResultFile;
      return { ...file, xs: file.xs.map(decodeF64) };
    } catch {
      return undefined;
    }
  }
}
