import { endLease } from "./attempt-end.ts";
import { cancelJob, checkRestorable, insertJobs, newJobUnits } from "./job-intake.ts";
import { expireLeases } from "./lease-expiry.ts";
import type { UnitErrorCode } from "../../protocol/jobs.ts";
import type { SolveJob, VolunteerInfo, VolunteerView, WorkUnit } from "../model.ts";
import { assignPending } from "./placement.ts";
import { ReputationBook } from "../../trust/reputation.ts";
import { heartbeat, provenFault, result, unitError, verified } from "./result-intake.ts";
import { SchedulerBook, type AttemptEnd } from "./book.ts";
import { resolveConfig } from "./config.ts";
import type {
  HeartbeatVerdict,
  ResultVerdict,
  SchedulerAction,
  SchedulerChanges,
  SchedulerOptions,
  SchedulerState,
  VerificationVerdict,
} from "./types.ts";
import type { UnitDraft } from "../split.ts";
import { newVolunteerState } from "./volunteers.ts";

export type {
  HeartbeatVerdict,
  ResultVerdict,
  SchedulerAction,
  SchedulerChanges,
  SchedulerOptions,
  SchedulerState,
  VerificationVerdict,
} from "./types.ts";

/**
 * The requester's scheduler: a synchronous state machine over jobs, work units, leases and volunteers, with
 * no I/O. Events go in through the `on*` methods (each reads the injected clock); `tick()` expires leases,
 * assigns pending units and returns the actions to carry out (send an assignment or a cancel, report a
 * failure, announce a finished job). Call `tick()` after every event and on a timer (about once a second).
 * `drainChanges()` returns the records changed since the last call, for the job repository to persist.
 *
 * Guarantees (tested, including by a property test over random event sequences):
 *  - a unit accepts at most one result per attempt, and none while another result of it is being verified
 *    or has been verified: late results (an attempt that is no longer current) and duplicates (an attempt
 *    whose result already arrived) are ignored, idempotently, by (unit id, attempt);
 *  - a unit never gets lost: it is pending, leased, verifying, done, or failed with a coded error;
 *  - an attempt ends in a verified result, or its lease expires (deadline or missing heartbeats), or its
 *    volunteer disconnects, errs or returns an invalid result; then the unit is reissued, to another
 *    volunteer when any can take it, until `maxAttempts` charged attempts have failed;
 *  - a volunteer holds at most `maxInFlightPerVolunteer` units; a banned volunteer holds none.
 *
 * This class is the facade; the work is split by idea: job-intake.ts (adding, restoring, cancelling jobs),
 * placement.ts (which volunteer gets which unit), lease-expiry.ts, result-intake.ts (heartbeats, results,
 * errors, verdicts), attempt-end.ts (reissue or fail), job-completion.ts, book.ts (records,
 * outbox and change journal).
 */
export class Scheduler {
  readonly reputation: ReputationBook;
  readonly #book: SchedulerBook;

  constructor(options: SchedulerOptions) {
    this.reputation = options.reputation ?? new ReputationBook();
    this.#book = new SchedulerBook(resolveConfig(options), this.reputation);
  }

  // ── jobs ────────────────────────────────────────────────────────────────────────────────────────────

  /** Adds a running job and its units (from planJob), all pending. */
  addJob(job: SolveJob, drafts: readonly UnitDraft[]): void {
    insertJobs(this.#book, [job], newJobUnits(this.#book, job, drafts));
  }

  /**
   * Loads persisted state into an empty scheduler (after a reload). Leased units must have been turned
   * back into pending ones first (resume.ts): their volunteers' connections did not survive the reload.
   */
  restore(state: SchedulerState): void {
    checkRestorable(this.#book, state);
    insertJobs(this.#book, state.jobs, state.units, false);
  }

  /** Cancels a running job: its leased units get a cancel, every unfinished unit fails "job_cancelled". */
  cancelJob(jobId: string): boolean {
    return cancelJob(this.#book, jobId);
  }

  /**
   * Forgets a finished job and its units (the person deleted it; the caller removes it from storage).
   * Refuses a running job (false): cancel it first, so no volunteer keeps computing for nothing.
   */
  forgetJob(jobId: string): boolean {
    const b = this.#book;
    const job = b.jobs.get(jobId);
    if (job === undefined || job.status === "running") return false;
    for (const id of b.jobUnits.get(jobId) ?? []) {
      b.pending.delete(id);
      b.leased.delete(id);
      b.units.delete(id);
      b.dirtyUnits.delete(id);
    }
    b.jobs.delete(jobId);
    b.jobOrder.delete(jobId);
    b.jobUnits.delete(jobId);
    b.remaining.delete(jobId);
    b.dirtyJobs.delete(jobId);
    return true;
  }

  // ── volunteers ──────────────────────────────────────────────────────────────────────────────────────

  /** The current directory of volunteers: new ones join, known ones update, missing ones disconnect. */
  volunteersChanged(list: readonly VolunteerInfo[]): void {
    const volunteers = this.#book.volunteers;
    const present = new Set(list.map((v) => v.peerId));
    for (const v of volunteers.values())
      if (v.connected && !present.has(v.peerId)) this.onDisconnect(v.peerId);
    for (const info of list) {
      const v = volunteers.get(info.peerId);
      if (v === undefined) volunteers.set(info.peerId, newVolunteerState(info.peerId, info.capabilities));
      else {
        v.capabilities = info.capabilities;
        v.connected = true;
      }
    }
  }

  /** The volunteer is gone: each unit it held is reissued at the next tick (no waiting for the lease). */
  onDisconnect(volunteerId: string): void {
    const v = this.#book.volunteers.get(volunteerId);
    if (v === undefined || !v.connected) return;
    v.connected = false;
    for (const id of [...v.inFlight]) {
      endLease(this.#book, this.#book.units.get(id)!, {
        outcome: "disconnected",
        detail: "the volunteer disconnected",
        charged: true,
        cancel: null,
      });
    }
  }

  // ── unit events ─────────────────────────────────────────────────────────────────────────────────────

  onHeartbeat(unitId: string, attempt: number, volunteerId: string): HeartbeatVerdict {
    return heartbeat(this.#book, unitId, attempt, volunteerId);
  }

  /**
   * A result arrived (its data is the integrator's to keep, keyed by unit id and attempt). Only the live
   * attempt's own volunteer gets "accept-for-verification"; then verify it and call onVerified.
   * `workFlops` is the work the result represents, for the speed estimate: `solveCostFlops(n, nnz,
   * total iterations, 1)` from the result's iteration counts; by default the unit's worst-case cost.
   */
  onResult(unitId: string, attempt: number, volunteerId: string, workFlops?: number): ResultVerdict {
    return result(this.#book, unitId, attempt, volunteerId, workFlops);
  }

  /** The requester's verdict on the result it accepted. Returns false when it no longer applies. */
  onVerified(unitId: string, attempt: number, verdict: VerificationVerdict): boolean {
    return verified(this.#book, unitId, attempt, verdict);
  }

  /**
   * The requester proved the live attempt's volunteer lied (an exact check, e.g. a distributed block's
   * audit): it is banned at once and the unit reissued. False when the attempt is no longer live.
   */
  onProvenFault(unitId: string, attempt: number, volunteerId: string, detail: string): boolean {
    return provenFault(this.#book, unitId, attempt, volunteerId, detail);
  }

  /**
   * The volunteer says this attempt will not produce a result. "declined"/"cancelled" are not charged (the
   * volunteer paused or stopped; it gets no new unit for declineBackoffMs); other codes are.
   */
  onUnitError(
    unitId: string,
    attempt: number,
    volunteerId: string,
    code: UnitErrorCode,
    detail: string,
  ): HeartbeatVerdict {
    return unitError(this.#book, unitId, attempt, volunteerId, code, detail);
  }

  // ── time ────────────────────────────────────────────────────────────────────────────────────────────

  /** Expires leases, assigns pending units, and returns every action produced since the last tick. */
  tick(): SchedulerAction[] {
    const now = this.#book.now();
    expireLeases(this.#book, now);
    assignPending(this.#book, now);
    return this.#book.takeActions();
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────────────

  /** Records changed since the previous call: persist them (JobRepository.saveChanges). */
  drainChanges(): SchedulerChanges {
    return this.#book.drainChanges();
  }

  job(jobId: string): SolveJob | undefined {
    return this.#book.jobs.get(jobId);
  }

  jobs(): SolveJob[] {
    return [...this.#book.jobs.values()];
  }

  unit(unitId: string): WorkUnit | undefined {
    return this.#book.units.get(unitId);
  }

  unitsOf(jobId: string): WorkUnit[] {
    return (this.#book.jobUnits.get(jobId) ?? []).map((id) => this.#book.units.get(id)!);
  }

  /** How many attempts ended each way since this scheduler was made (verified, invalid-result, ...). */
  attemptEnds(): Partial<Record<AttemptEnd, number>> {
    return Object.fromEntries(this.#book.attemptEnds);
  }

  volunteers(): VolunteerView[] {
    const now = this.#book.now();
    return [...this.#book.volunteers.values()].map((v) => ({
      peerId: v.peerId,
      capabilities: v.capabilities,
      connected: v.connected,
      measuredFlopsPerMs: v.measuredFlopsPerMs,
      inFlight: v.inFlight.size,
      banned: this.reputation.isBanned(v.peerId, now),
    }));
  }
}
