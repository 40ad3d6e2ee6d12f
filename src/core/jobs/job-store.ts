import type { ReputationRecord } from "../trust/reputation.ts";
import type { SolveJob, WorkUnit } from "./model.ts";
import type { ReverifyItem } from "./scheduler/resume.ts";
import type { SchedulerChanges } from "./scheduler/scheduler.ts";

/** A result a volunteer returned for (unitId, attempt): kept so a reload re-verifies instead of recomputing. */
export interface ResultRow {
  readonly unitId: string;
  readonly attempt: number;
  readonly jobId: string;
  readonly volunteerId: string;
  readonly receivedAtMs: number;
  /** One solution per right-hand side of the unit (IndexedDB stores typed arrays natively). */
  readonly xs: readonly Float64Array[];
  /** The requester's own certificate per solution, once verified. */
  readonly relResiduals: readonly number[] | null;
  readonly verified: boolean;
  /** The signed result envelope as received (JSON text), for audit; null in tests without a mesh. */
  readonly envelope: string | null;
}

/** A result's certificate once the requester verified it (JobStore.markResultVerified). */
export interface VerifiedMark {
  readonly unitId: string;
  readonly attempt: number;
  readonly relResiduals: readonly number[];
}

/** A job input or a keyed document (job meta, view snapshot) in the blob table. */
export interface BlobWrite {
  readonly sha256: string;
  readonly bytes: Uint8Array;
  readonly nowMs: number;
}

/**
 * Writes gathered over a moment (requester/write-behind.ts), stored in one transaction in this order:
 * blobs, results, verified marks, then the scheduler's changes, so a unit is never stored done without
 * its verified result, and a job never without its inputs.
 */
export interface StoreBatch {
  readonly blobs: readonly BlobWrite[];
  readonly results: readonly ResultRow[];
  readonly verified: readonly VerifiedMark[];
  readonly changes: SchedulerChanges;
}

export interface ResumeState {
  /** Running jobs (finished ones are history: `listJobs`). */
  readonly jobs: SolveJob[];
  /** Their units, normalised by resumeUnits: no leases; verified units stay done. */
  readonly units: WorkUnit[];
  readonly reputation: ReputationRecord[];
  /** Results received but not verified before the reload: verify them again. */
  readonly reverify: ReverifyItem[];
}

/**
 * The requester's durable job state: what the jobs layer needs kept across a reload. The scheduler stays in
 * memory and synchronous; the requester gathers `scheduler.drainChanges()`, the results it accepted and
 * their verified marks over a moment and stores them with `saveBatch` (one transaction per flush, not per
 * event: requester/write-behind.ts). After a reload `resumeState()` gives back what the scheduler needs. storage/job-repository.ts keeps it
 * in IndexedDB; the jobs layer never names a database.
 */
export interface JobStore {
  /** Persists what the scheduler changed, atomically. */
  saveChanges(changes: SchedulerChanges): Promise<void>;
  /** Persists a batch of writes atomically, in the order StoreBatch names (one transaction). */
  saveBatch(batch: StoreBatch): Promise<void>;
  saveJob(job: SolveJob, units?: readonly WorkUnit[]): Promise<void>;
  loadJob(jobId: string): Promise<SolveJob | undefined>;
  /** Newest first. */
  listJobs(limit?: number): Promise<SolveJob[]>;
  /** By unit index. */
  loadUnits(jobId: string): Promise<WorkUnit[]>;
  saveResult(row: ResultRow): Promise<void>;
  loadResult(unitId: string, attempt: number): Promise<ResultRow | undefined>;
  markResultVerified(unitId: string, attempt: number, relResiduals: readonly number[]): Promise<void>;
  /** The verified result of each done unit of the job, by unit id (what the user downloads). */
  loadVerifiedResults(jobId: string): Promise<Map<string, ResultRow>>;
  /** A job input (matrix, right-hand side) by content digest, so a job survives closing every tab. */
  putBlob(sha256: string, bytes: Uint8Array, nowMs: number): Promise<void>;
  getBlob(sha256: string): Promise<Uint8Array | undefined>;
  loadReputation(): Promise<ReputationRecord[]>;
  /** Removes a job, its units, results, name and view, and its inputs no other stored job uses. */
  deleteJob(jobId: string): Promise<void>;
  /** Running jobs and their units with every lease dropped (resume.ts), written back normalised. */
  resumeState(nowMs: number): Promise<ResumeState>;
}

/**
 * The blobs a job owns besides its inputs, which a store deletes with the job: the keys of
 * requester/job-meta.ts, requester/view-snapshot.ts and distributed/checkpoint-blob.ts. One list, so that
 * every JobStore (IndexedDB in a tab, files in Node) forgets the same things.
 */
export function jobOwnedBlobKeys(jobId: string): string[] {
  return [`meta/${jobId}`, `view/${jobId}`, `dist-checkpoint/${jobId}`];
}
