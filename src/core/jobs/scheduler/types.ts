import type { CancelReason } from "../../protocol/jobs.ts";
import type { SolveJob, JobOutcome, JobStatus, UnitFailure, WorkUnit } from "../model.ts";
import type { ReputationBook, ReputationRecord } from "../../trust/reputation.ts";

/** The scheduler's public vocabulary: its options, the actions it returns, and its verdicts. */

export interface SchedulerOptions {
  readonly nowMs: () => number;
  /** Uniform [0, 1): breaks ties between equally good volunteers. */
  readonly random: () => number;
  readonly reputation?: ReputationBook;
  /** Charged attempts before a unit fails (default 5). */
  readonly maxAttempts?: number;
  /** K: units in flight per volunteer (default 2: one computing, one arriving). */
  readonly maxInFlightPerVolunteer?: number;
  /** Told to volunteers in each assignment (default 2 s). */
  readonly heartbeatIntervalMs?: number;
  /** A lease without a heartbeat for this long is reissued (default 10 s: several missed heartbeats). */
  readonly heartbeatTimeoutMs?: number;
  /** Lease deadline = clamp(leaseSlack × worst-case cost / speed, minLeaseMs, maxLeaseMs). */
  readonly minLeaseMs?: number;
  readonly maxLeaseMs?: number;
  readonly leaseSlack?: number;
  /**
   * A unit fails as "not_converged" once this many different volunteers reported it (default 2) and at
   * least one of them is trusted (reputation) or is `selfId`: an untrusted "did not converge" is only a
   * claim until someone trusted confirms it (claims.ts).
   */
  readonly notConvergedQuorum?: number;
  /** The requester's own volunteer (this tab): its reports are trusted like the requester's own work. */
  readonly selfId?: string;
  /** Advertised speed counts for at most this multiple of the swarm's measured median (default 2). */
  readonly advertisedSpeedCap?: number;
  /** After declining a unit, a volunteer gets nothing new for this long (default 5 s). */
  readonly declineBackoffMs?: number;
  /** Weight of the newest observation in the speed EWMA (default 0.3). */
  readonly speedEwmaAlpha?: number;
}

export type SchedulerAction =
  | {
      readonly type: "assign";
      readonly volunteerId: string;
      readonly unitId: string;
      readonly jobId: string;
      readonly attempt: number;
      readonly deadlineMs: number;
      readonly heartbeatIntervalMs: number;
    }
  | {
      readonly type: "cancel";
      readonly volunteerId: string;
      readonly unitId: string;
      readonly attempt: number;
      readonly reason: CancelReason;
    }
  | {
      readonly type: "unit-failed";
      readonly unitId: string;
      readonly jobId: string;
      readonly error: UnitFailure;
    }
  | {
      readonly type: "job-finished";
      readonly jobId: string;
      readonly status: Exclude<JobStatus, "running">;
      readonly outcome: JobOutcome;
    };

export type ResultVerdict =
  "accept-for-verification" | "ignored-duplicate" | "ignored-late" | "ignored-unknown";
export type HeartbeatVerdict = "ok" | "ignored-late" | "ignored-unknown";

/** The requester's verdict on a result it accepted for verification. */
export type VerificationVerdict =
  | { readonly ok: true }
  /** "invalid": wrong answer (reputation drops). "not_converged": a report that the method did not converge
   *  whose residual the requester confirmed (progress was made, but not enough): a claim, retried elsewhere
   *  and judged once the unit ends (claims.ts: refuted by a converged result elsewhere, confirmed by a
   *  trusted volunteer, else counted against the claimant). */
  | {
      readonly ok: false;
      readonly code: "invalid" | "not_converged";
      readonly reason: string;
      /** The requester's own computation says so (a distributed solve it coordinated): not a claim. */
      readonly confirmed?: boolean;
    };

export interface SchedulerChanges {
  readonly jobs: SolveJob[];
  readonly units: WorkUnit[];
  readonly reputation: ReputationRecord[];
}

export interface SchedulerState {
  readonly jobs: readonly SolveJob[];
  readonly units: readonly WorkUnit[];
}
