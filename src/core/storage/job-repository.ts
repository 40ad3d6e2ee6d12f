import type { SolveJob, WorkUnit } from "../jobs/model.ts";
import type { ReputationRecord } from "../trust/reputation.ts";
import {
  jobOwnedBlobKeys,
  type JobStore,
  type ResultRow,
  type ResumeState,
  type StoreBatch,
} from "../jobs/job-store.ts";
import { resumeUnits, type SchedulerChanges } from "../jobs/scheduler/index.ts";
import type { JobBlobRow, OpenSwarmDb } from "./db.ts";
import { saveBatchNative } from "./native-batch.ts";

/** The jobs layer's JobStore in IndexedDB (Dexie): jobs, units, returned results (solution vectors stored
 * as Float64Arrays), reputation per volunteer, and the job inputs by digest. */
export class JobRepository implements JobStore {
  readonly #db: OpenSwarmDb;

  constructor(db: OpenSwarmDb) {
    this.#db = db;
  }

  /** Persists what the scheduler changed, atomically. */
  async saveChanges(changes: SchedulerChanges): Promise<void> {
    const db = this.#db;
    if (changes.jobs.length + changes.units.length + changes.reputation.length === 0) return;
    await db.transaction("rw", [db.jobs, db.units, db.reputation], async () => {
      if (changes.jobs.length > 0) await db.jobs.bulkPut(changes.jobs);
      if (changes.units.length > 0) await db.units.bulkPut(changes.units);
      if (changes.reputation.length > 0) await db.reputation.bulkPut(changes.reputation);
    });
  }

  /** One transaction, in plain IndexedDB (native-batch.ts): the requester's hot write path. */
  async saveBatch(batch: StoreBatch): Promise<void> {
    const { blobs, results, verified, changes } = batch;
    const changed = changes.jobs.length + changes.units.length + changes.reputation.length;
    if (blobs.length + results.length + verified.length + changed === 0) return;
    if (!this.#db.isOpen()) await this.#db.open();
    await saveBatchNative(this.#db.backendDB(), batch);
  }

  async saveJob(job: SolveJob, units: readonly WorkUnit[] = []): Promise<void> {
    const db = this.#db;
    await db.transaction("rw", [db.jobs, db.units], async () => {
      await db.jobs.put(job);
      if (units.length > 0) await db.units.bulkPut([...units]);
    });
  }

  async loadJob(jobId: string): Promise<SolveJob | undefined> {
    return this.#db.jobs.get(jobId);
  }

  /** Newest first. */
  async listJobs(limit = 100): Promise<SolveJob[]> {
    return this.#db.jobs.orderBy("createdAtMs").reverse().limit(limit).toArray();
  }

  /** By unit index. */
  async loadUnits(jobId: string): Promise<WorkUnit[]> {
    const units = await this.#db.units.where("jobId").equals(jobId).toArray();
    return units.sort((p, q) => p.index - q.index);
  }

  async saveResult(row: ResultRow): Promise<void> {
    await this.#db.results.put(row);
  }

  async loadResult(unitId: string, attempt: number): Promise<ResultRow | undefined> {
    return this.#db.results.get([unitId, attempt]);
  }

  async markResultVerified(unitId: string, attempt: number, relResiduals: readonly number[]): Promise<void> {
    await this.#db.results.update([unitId, attempt], { verified: true, relResiduals: [...relResiduals] });
  }

  /** The verified result of each done unit of the job, by unit id (what the user downloads). */
  async loadVerifiedResults(jobId: string): Promise<Map<string, ResultRow>> {
    const rows = await this.#db.results.where("jobId").equals(jobId).toArray();
    return new Map(rows.filter((r) => r.verified).map((r) => [r.unitId, r]));
  }

  async putBlob(sha256: string, bytes: Uint8Array, nowMs: number): Promise<void> {
    const row: JobBlobRow = { sha256, bytes, storedAtMs: nowMs };
    await this.#db.jobBlobs.put(row);
  }

  async getBlob(sha256: string): Promise<Uint8Array | undefined> {
    return (await this.#db.jobBlobs.get(sha256))?.bytes;
  }

  async loadReputation(): Promise<ReputationRecord[]> {
    return this.#db.reputation.toArray();
  }

  /**
   * Removes a job, its units, its results, its name and view (the `meta/` and `view/` blobs) and its input
   * blobs, except inputs another stored job still uses (they are shared by digest).
   */
  async deleteJob(jobId: string): Promise<void> {
    const db = this.#db;
    await db.transaction("rw", [db.jobs, db.units, db.results, db.jobBlobs], async () => {
      const job = await db.jobs.get(jobId);
      await db.jobs.delete(jobId);
      await db.units.where("jobId").equals(jobId).delete();
      await db.results.where("jobId").equals(jobId).delete();
      const blobs = new Set(jobOwnedBlobKeys(jobId));
      if (job !== undefined) {
        const inputs = new Set([job.spec.matrix.sha256, ...job.spec.rhs.map((r) => r.sha256)]);
        await db.jobs.each((other) => {
          inputs.delete(other.spec.matrix.sha256);
          for (const r of other.spec.rhs) inputs.delete(r.sha256);
        });
        for (const sha of inputs) blobs.add(sha);
      }
      await db.jobBlobs.bulkDelete([...blobs]);
    });
  }

  /**
   * The state to rebuild the scheduler from after a reload (`scheduler.restore(state)`, reputation into a
   * `ReputationBook`): running jobs and their units with every lease dropped (resume.ts). The normalised
   * units are written back in the same transaction, so a second reload sees the same state.
   */
  async resumeState(nowMs: number): Promise<ResumeState> {
    const db = this.#db;
    return db.transaction("rw", [db.jobs, db.units, db.results, db.reputation], async () => {
      const jobs = await db.jobs.where("status").equals("running").toArray();
      const ids = jobs.map((j) => j.id);
      const units = ids.length === 0 ? [] : await db.units.where("jobId").anyOf(ids).toArray();
      const verifying = units.filter((u) => u.status === "verifying" && u.result !== null);
      const keys = verifying.map((u): [string, number] => [u.id, u.result!.attempt]);
      const found = keys.length === 0 ? [] : await db.results.bulkGet(keys);
      const stored = new Set(found.flatMap((r) => (r === undefined ? [] : [`${r.unitId}#${r.attempt}`])));
      const resumed = resumeUnits(units, nowMs, (id, attempt) => stored.has(`${id}#${attempt}`));
      if (resumed.changed > 0) await db.units.bulkPut(resumed.units);
      return {
        jobs,
        units: resumed.units,
        reputation: await db.reputation.toArray(),
        reverify: resumed.reverify,
      };
    });
  }
}
