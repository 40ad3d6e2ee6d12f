import type { UnitLogEntry } from "../../core/jobs/volunteer/index.ts";
/**
 * What the Dashboard and Contribute views read about swarm jobs. The runtime (src/state/jobs/store.ts and
 * src/core/jobs/*-runtime.ts) fills these; the UI only reads them and calls the actions.
 */
import type { JobKind, JobStatus, UnitStatus } from "../../core/jobs/model.ts";
import type { MethodName } from "../../core/solver/types.ts";
import type { JobExport, ResidualSeries } from "../../core/jobs/requester/index.ts";

export type { ResidualSeries };

export interface JobView {
  id: string;
  name: string;
  kind: JobKind;
  status: JobStatus;
  createdAtMs: number;
  finishedAtMs: number | null;
  tol: number;
  method: MethodName;
  n: number;
  nnz: number;
  rhsCount: number;
  unitsTotal: number;
  unitsDone: number;
  unitsFailed: number;
  /** A running job's estimated time left from its pace so far (eta.ts); null while estimating or done. */
  remainingMs: number | null;
  /** Worst certified residual over verified units (null until one is verified); after a reload, the one
   *  saved when the job finished until its units are loaded. */
  worstRelResidual: number | null;
  /** The seed its random right-hand sides were made from (seededRandom, one b after another); null if b
   *  was not random. */
  rhsSeed: number | null;
  /** Human-readable reason when failed or cancelled. */
  error: string | null;
}

export type VerificationStatus = "none" | "pending" | "verified" | "rejected";

export interface UnitView {
  id: string;
  index: number;
  attempt: number;
  status: UnitStatus;
  volunteerId: string | null;
  /** 0..1 from the volunteer's progress reports (1 once done). */
  progress: number;
  /** The unit's final iteration once its result is verified, else the last progress report's. */
  iteration: number | null;
  /** The volunteer's own residual: its result's once verified, else the last progress report's. */
  residual: number | null;
  /** Which the two fields above are: the verified result's claims, a progress report, or nothing known. */
  reported: "result" | "progress" | null;
  verification: VerificationStatus;
  relResidual: number | null;
  backend: string | null;
  attemptsUsed: number;
}

export interface VolunteerStatsView {
  peerId: string;
  unitsInFlight: number;
  unitsDone: number;
  consecutiveValid: number;
  totalValid: number;
  totalInvalid: number;
  banned: boolean;
  /** Measured throughput (EWMA), FLOP/s; null before the first result. */
  speedFlopsPerS: number | null;
}

/**
 * A volunteer on one job: what it did on THIS job (units it holds, units whose verified result is its,
 * results of it this job rejected), next to its reputation over every job of this requester.
 */
export interface JobVolunteerView {
  peerId: string;
  unitsInFlight: number;
  unitsVerified: number;
  resultsRejected: number;
  /** Over all jobs (reputation). */
  totalValid: number;
  totalInvalid: number;
  consecutiveValid: number;
  banned: boolean;
  speedFlopsPerS: number | null;
}

/** What a user submits from the Dashboard. */
export interface JobSubmission {
  name: string;
  kind: JobKind;
  /** Matrix Market text of A, or a generator name such as "poisson2d-300". */
  matrix: { kind: "matrix-market"; text: string } | { kind: "generated"; name: string };
  /** Right-hand sides: Matrix Market array texts; b = A·1; or `count` random b made from `seed` (a random
   *  seed if none is given; the job shows it). */
  rhs:
    { kind: "texts"; texts: string[] } | { kind: "ones" } | { kind: "random"; count: number; seed?: number };
  method: MethodName;
  tol: number;
  maxIter: number;
  /** Row blocks for a distributed solve (ignored otherwise). */
  blocks?: number;
}

export interface JobsState {
  jobs: JobView[];
  units: Record<string, UnitView[]>;
  /** Per job, its residual chart's lines (one per unit, each ending at its certificate). */
  residualSeries: Record<string, readonly ResidualSeries[]>;
  volunteers: VolunteerStatsView[];
  /** Per job: the volunteers that hold or held one of its units, with their counts on that job. */
  jobVolunteers: Record<string, JobVolunteerView[]>;
  selectedJobId: string | null;
  /** The last failure of an action or of the runtime, for people; cleared by a successful submission and
   *  by leaving the page (clearError), except "jobs are unavailable", which stays. */
  lastError: string | null;
  /** The code of lastError, when it has one (shown small next to it). */
  lastErrorCode: string | null;
  actions: {
    submit(submission: JobSubmission): Promise<string>;
    cancel(jobId: string): Promise<void>;
    select(jobId: string | null): void;
    clearError(): void;
    /** The verified solution(s) of a job: one vector per right-hand side, in order. */
    solutions(jobId: string): Promise<Float64Array[]>;
    /** The verified solutions with this tab's certified residual of each, per right-hand side in order. */
    certifiedSolutions(jobId: string): Promise<{ xs: Float64Array[]; relResiduals: number[] }>;
    /** The job's right-hand sides b, in order (to check x against them). */
    rightHandSides(jobId: string): Promise<Float64Array[]>;
    /** Deletes a finished job and everything stored for it (a running one is refused: cancel first). */
    deleteJob(jobId: string): Promise<void>;
    /** The job as a JSON-ready document: spec, units, certified residuals, where the downloads are. */
    exportJob(jobId: string, pageUrl: string): Promise<JobExport>;
  };
}

export type VolunteerStatus = "idle" | "computing" | "paused";

export interface VolunteerState {
  status: VolunteerStatus;
  current: {
    unitId: string;
    jobId: string;
    requesterId: string;
    progress: number;
    iteration: number | null;
    residual: number | null;
    backend: string | null;
  } | null;
  unitsDone: number;
  requestersServed: string[];
  /** Fraction of one core this tab may use for work (a duty cycle): 0.1..1. */
  cpuShare: number;
  pauseWhenHidden: boolean;
  /** unit-result messages this tab sent, per unit id (tests check verified units are not recomputed). */
  resultsSent?: Record<string, number>;
  pauseReason: "user" | "hidden" | "battery" | null;
  /** "Only on AC power" ticked. */
  pauseOnBattery: boolean;
  /** The browser has the Battery Status API (the checkbox is shown only then). */
  batterySupported: boolean;
  onBattery: boolean;
  /** Units and blocks this tab computed, newest first (the last 100). */
  log: readonly UnitLogEntry[];
  /** Fraction of wall time this tab's volunteer computed over the last minute. */
  busyFraction: number;
  actions: {
    pause(): void;
    resume(): void;
    setCpuShare(share: number): void;
    setPauseWhenHidden(value: boolean): void;
    setPauseOnBattery(value: boolean): void;
  };
}
