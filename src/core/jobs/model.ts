import type { Capabilities } from "../protocol/capabilities.ts";
import type { MethodName, PreconditionerName } from "../protocol/solver-names.ts";
import { UNIT_ID_PATTERN } from "../protocol/ids.ts";
import { JobError } from "../protocol/job-errors.ts";

/**
 * The requester's vocabulary: a SolveJob is what a user submitted; it is split into WorkUnits, each handed to
 * a volunteer under a Lease. Everything here is plain data (structured-cloneable, so IndexedDB stores it as
 * is) and treated as immutable: the scheduler replaces a record instead of mutating it, which makes change
 * tracking for persistence a matter of remembering ids.
 */

export type JobKind = "solve" | "multi-rhs" | "distributed-solve";
export type JobStatus = "running" | "done" | "failed" | "cancelled";
export type UnitStatus = "pending" | "leased" | "verifying" | "done" | "failed";
export type UnitBackend = "cpu" | "webgpu";

/** A binary input or output addressed by content: the bytes travel as a peer-protocol blob with this digest. */
export interface BlobRef {
  readonly sha256: string;
  readonly byteLength: number;
}

export interface MatrixRef extends BlobRef {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
}

export interface SolveJobSpec {
  /** The matrix, encoded by payload.ts `encodeCsr`. */
  readonly matrix: MatrixRef;
  /** Right-hand sides, each encoded by `encodeVector`: one for "solve", many for "multi-rhs". */
  readonly rhs: readonly BlobRef[];
  readonly method: MethodName;
  readonly preconditioner?: PreconditionerName;
  readonly maxIter: number;
  /** Run units on this backend only (default: any). */
  readonly backend?: UnitBackend;
  /** multi-rhs: right-hand sides per unit (default 1). */
  readonly rhsPerUnit?: number;
  /** distributed-solve: number of row blocks (volunteers working together). */
  readonly blocks?: number;
}

export interface JobFailureSummary {
  readonly unitId: string;
  readonly code: UnitFailureCode;
  readonly message: string;
}

export interface JobOutcome {
  readonly finishedAtMs: number;
  readonly unitsDone: number;
  readonly unitsFailed: number;
  /** One sentence for people: "all 8 units verified", "2 of 8 units failed: ...". */
  readonly message: string;
  readonly failures: readonly JobFailureSummary[];
}

/** A sparse solve a person submitted (one or many right-hand sides, possibly split in row blocks). */
export interface SolveJob {
  readonly id: string;
  readonly kind: JobKind;
  readonly spec: SolveJobSpec;
  readonly status: JobStatus;
  readonly createdAtMs: number;
  /** Relative residual ‖b − A x‖/‖b‖ every verified result must reach. */
  readonly tolerance: number;
  readonly outcome: JobOutcome | null;
}

/** What a unit asks the volunteer to do; the job spec says with which matrix and method. */
export type UnitTask =
  | { readonly kind: "rhs-group"; readonly rhsStart: number; readonly rhsCount: number }
  | {
      readonly kind: "row-block";
      readonly block: number;
      readonly blocks: number;
      readonly rowStart: number;
      readonly rowEnd: number;
    };

export interface UnitRequirements {
  readonly backend?: UnitBackend;
  /** Working set the volunteer must be able to hold (matrix + solver vectors). */
  readonly memoryBytes: number;
}

export interface Lease {
  readonly volunteerId: string;
  readonly attempt: number;
  readonly assignedAtMs: number;
  /** Hard deadline: a unit not returned by then is reissued even if heartbeats keep coming. */
  readonly deadlineMs: number;
  /** Starts at assignedAtMs; a lease without a heartbeat for heartbeatTimeoutMs is reissued. */
  readonly lastHeartbeatMs: number;
}

/** How an attempt ended when it did not end in a verified result. */
export type AttemptOutcome =
  | "deadline-expired"
  | "heartbeat-timeout"
  | "disconnected"
  | "invalid-result"
  | "volunteer-error"
  | "not-converged"
  | "declined"
  | "volunteer-banned"
  | "requester-restarted"
  | "job-cancelled";

export interface AttemptRecord {
  readonly attempt: number;
  readonly volunteerId: string;
  readonly outcome: AttemptOutcome;
  readonly atMs: number;
  readonly detail: string;
  /** Counted against maxAttempts (declines and requester restarts are nobody's fault: not counted). */
  readonly charged: boolean;
  /** A "not-converged" the requester's own computation confirmed (scheduler/claims.ts): nobody's claim. */
  readonly confirmed?: boolean;
}

/** The result the scheduler accepted for verification (the data itself lives in the repository). */
export interface ResultRef {
  readonly attempt: number;
  readonly volunteerId: string;
  readonly receivedAtMs: number;
  /** Service time as the requester saw it: from assignment (or the volunteer's previous result, if later)
   *  to this result, transfers included. */
  readonly elapsedMs: number;
  /** Work the result represents (flops), for the volunteer's speed estimate once it is verified. */
  readonly workFlops: number;
}

export type UnitFailureCode = "max_attempts" | "not_converged" | "job_cancelled";

export interface UnitFailure {
  readonly code: UnitFailureCode;
  readonly message: string;
}

export interface WorkUnit {
  /** `${jobId}/${index}` */
  readonly id: string;
  readonly jobId: string;
  readonly index: number;
  /** Number of the latest issue (1-based; 0 before the first). Results are matched by (id, attempt). */
  readonly attempt: number;
  readonly status: UnitStatus;
  readonly requirements: UnitRequirements;
  readonly task: UnitTask;
  /** Worst-case work (flops): ranks volunteers and sizes lease deadlines. */
  readonly costFlops: number;
  readonly lease: Lease | null;
  /** Attempts charged against maxAttempts. */
  readonly attemptsUsed: number;
  /** Volunteers whose attempt on this unit ended badly: avoided while anyone else can take it. */
  readonly failedBy: readonly string[];
  /** Attempts whose result already arrived (a second copy is a duplicate). Capped at HISTORY_CAP. */
  readonly resultsSeen: readonly number[];
  /** Attempts that ended without a verified result, oldest first. Capped at HISTORY_CAP. */
  readonly history: readonly AttemptRecord[];
  /** Set while verifying and once done. */
  readonly result: ResultRef | null;
  /** Set once failed. */
  readonly error: UnitFailure | null;
}

/** Bounds the per-unit arrays: uncharged attempts (declines, restarts) are not bounded by maxAttempts. */
export const HISTORY_CAP = 32;

export interface VolunteerCapabilities {
  readonly webgpu: boolean;
  readonly memoryBytes: number;
  /** Self-reported SpMV MFLOP/s: the speed prior until the requester has measured the volunteer itself. */
  readonly benchmarkMflops: number;
}

export interface VolunteerInfo {
  readonly peerId: string;
  readonly capabilities: VolunteerCapabilities;
}

export interface VolunteerView {
  readonly peerId: string;
  readonly capabilities: VolunteerCapabilities;
  readonly connected: boolean;
  /** EWMA of verified throughput (flops/ms), null until a result of this volunteer was verified. */
  readonly measuredFlopsPerMs: number | null;
  readonly inFlight: number;
  readonly banned: boolean;
}

/** Browsers do not say how much memory a tab may use; 1 GiB is a conservative working set for a tab. */
export const DEFAULT_VOLUNTEER_MEMORY_BYTES = 1024 ** 3;

/** The scheduler's view of what a peer announced in the directory. */
export function volunteerCapabilitiesFrom(
  caps: Capabilities,
  memoryBytes: number = DEFAULT_VOLUNTEER_MEMORY_BYTES,
): VolunteerCapabilities {
  return { webgpu: caps.webgpu !== null, memoryBytes, benchmarkMflops: caps.benchmarkMflops };
}

export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,48}$/;
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/** A 16-character job id from the caller's uniform [0, 1) source (ids name jobs, they are not secrets). */
export function newJobId(random: () => number): string {
  let id = "";
  for (let i = 0; i < 16; i++) id += ID_ALPHABET[Math.floor(random() * 64) & 63];
  return id;
}

export function unitIdOf(jobId: string, index: number): string {
  return `${jobId}/${index}`;
}

export function parseUnitId(unitId: string): { jobId: string; index: number } {
  if (!UNIT_ID_PATTERN.test(unitId)) throw new JobError("invalid_spec", `"${unitId}" is not a unit id`);
  const slash = unitId.lastIndexOf("/");
  return { jobId: unitId.slice(0, slash), index: Number(unitId.slice(slash + 1)) };
}

/** Keeps the newest `cap` entries. */
export function appendCapped<T>(list: readonly T[], item: T, cap: number = HISTORY_CAP): readonly T[] {
  const next = [...list, item];
  return next.length > cap ? next.slice(next.length - cap) : next;
}
