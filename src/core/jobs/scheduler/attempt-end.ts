import type { CancelReason } from "../../protocol/jobs.ts";
import { unitTerminal } from "./job-completion.ts";
import { appendCapped, type AttemptOutcome, type UnitFailure, type WorkUnit } from "../model.ts";
import type { SchedulerBook } from "./book.ts";

/** How attempts end: the unit is reissued, or fails with a coded error once it runs out of attempts. */

const DETAIL_CHARS = 160;
const clip = (s: string): string => (s.length > DETAIL_CHARS ? s.slice(0, DETAIL_CHARS - 1) + "…" : s);

export interface EndAttempt {
  readonly outcome: AttemptOutcome;
  readonly detail: string;
  readonly charged: boolean;
  /** Send the volunteer a cancel (it may still be working). */
  readonly cancel: CancelReason | null;
}

/** Ends the live lease of a leased unit: frees the volunteer's slot, then ends the attempt. */
export function endLease(b: SchedulerBook, u: WorkUnit, end: EndAttempt): void {
  const lease = u.lease!;
  b.release(lease.volunteerId, u);
  b.leased.delete(u.id);
  if (end.cancel !== null) b.sendCancel(lease.volunteerId, u.id, lease.attempt, end.cancel);
  endAttempt(b, u, lease.volunteerId, lease.attempt, end);
}

/** Records how the attempt ended; the unit goes back to pending, or fails when out of attempts. */
export function endAttempt(
  b: SchedulerBook,
  u: WorkUnit,
  volunteerId: string,
  attempt: number,
  end: EndAttempt,
): void {
  const now = b.now();
  const next: WorkUnit = {
    ...u,
    status: "pending",
    lease: null,
    result: null,
    attemptsUsed: u.attemptsUsed + (end.charged ? 1 : 0),
    failedBy: u.failedBy.includes(volunteerId) ? u.failedBy : appendCapped(u.failedBy, volunteerId),
    history: appendCapped(u.history, {
      attempt,
      volunteerId,
      outcome: end.outcome,
      atMs: now,
      detail: clip(end.detail),
      charged: end.charged,
    }),
  };
  const { maxAttempts, notConvergedQuorum } = b.config;
  const notConverged = new Set(
    next.history.filter((h) => h.outcome === "not-converged").map((h) => h.volunteerId),
  );
  if (notConverged.size >= notConvergedQuorum) {
    failUnit(b, next, {
      code: "not_converged",
      message:
        `unit ${u.id}: the method did not converge on ${notConverged.size} volunteers; last report: ` +
        clip(end.detail),
    });
  } else if (next.attemptsUsed >= maxAttempts) {
    const charged = next.history.filter((h) => h.charged).slice(-maxAttempts);
    const lines = charged.map((h) => `#${h.attempt} ${h.volunteerId.slice(0, 10)} ${h.outcome}: ${h.detail}`);
    failUnit(b, next, {
      code: "max_attempts",
      message: `unit ${u.id} failed after ${next.attemptsUsed} attempts (${lines.join("; ")})`,
    });
  } else {
    b.pending.add(u.id, b.queueKey(u));
    b.put(next);
  }
}

function failUnit(b: SchedulerBook, u: WorkUnit, error: UnitFailure): void {
  b.pending.delete(u.id);
  b.put({ ...u, status: "failed", lease: null, error });
  b.outbox.push({ type: "unit-failed", unitId: u.id, jobId: u.jobId, error });
  unitTerminal(b, u.jobId);
}

/** Newly banned: take back its units (not charged to them: the requester decided) and cancel its work. */
export function takeBackFromBanned(b: SchedulerBook, volunteerId: string): void {
  const v = b.volunteers.get(volunteerId);
  if (v === undefined) return;
  for (const id of [...v.inFlight]) {
    endLease(b, b.units.get(id)!, {
      outcome: "volunteer-banned",
      detail: "the volunteer's results keep failing verification",
      charged: false,
      cancel: "volunteer-banned",
    });
  }
}
