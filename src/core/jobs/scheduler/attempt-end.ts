import type { CancelReason } from "../../protocol/jobs.ts";
import { unitTerminal } from "./job-completion.ts";
import { appendCapped, type AttemptOutcome, type UnitFailure, type WorkUnit } from "../model.ts";
import type { SchedulerBook } from "./book.ts";
import { claimants, claimConfirmed, freshCapacity, penaliseClaims } from "./claims.ts";

/** How attempts end: the unit is reissued, or fails with a coded error once it runs out of attempts. */

const DETAIL_CHARS = 160;
const clip = (s: string): string => (s.length > DETAIL_CHARS ? s.slice(0, DETAIL_CHARS - 1) + "…" : s);

export interface EndAttempt {
  readonly outcome: AttemptOutcome;
  readonly detail: string;
  readonly charged: boolean;
  /** Send the volunteer a cancel (it may still be working). */
  readonly cancel: CancelReason | null;
  /** A "not-converged" the requester itself confirmed (claims.ts). */
  readonly confirmed?: boolean;
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
  b.countEnd(end.outcome);
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
      ...(end.confirmed === true ? { confirmed: true } : {}),
    }),
  };
  const { maxAttempts, notConvergedQuorum } = b.config;
  const claims = claimants(next);
  const fresh = freshCapacity(b, next, now);
  // What uses up the unit's budget: charged attempts, except those of volunteers banned since (a liar's
  // attempts are not the unit's fault) and, while honest capacity is left, unconfirmed claims (claims.ts).
  const budget = next.history.filter(
    (h) =>
      h.charged && !b.reputation.isBanned(h.volunteerId, now) && (h.outcome !== "not-converged" || !fresh),
  ).length;
  if (claims.size >= notConvergedQuorum && (claimConfirmed(b, next) || !fresh)) {
    const confirmed = claimConfirmed(b, next);
    failUnit(
      b,
      next,
      {
        code: "not_converged",
        message:
          `unit ${u.id}: the method did not converge on ${claims.size} volunteers` +
          `${confirmed ? "" : " (none trusted to confirm it)"}; last report: ` +
          clip(end.detail),
      },
      !confirmed,
    );
  } else if (budget >= maxAttempts || next.attemptsUsed >= maxAttempts * ATTEMPT_CEILING) {
    const charged = next.history.filter((h) => h.charged).slice(-maxAttempts);
    const lines = charged.map((h) => `#${h.attempt} ${h.volunteerId.slice(0, 10)} ${h.outcome}: ${h.detail}`);
    failUnit(
      b,
      next,
      {
        code: "max_attempts",
        message: `unit ${u.id} failed after ${next.attemptsUsed} attempts (${lines.join("; ")})`,
      },
      true,
    );
  } else {
    b.pending.add(u.id, b.queueKey(u));
    b.put(next);
  }
}

/** However many identities lie, a unit costs at most this many times maxAttempts charged attempts. */
const ATTEMPT_CEILING = 3;

/** `judge`: the unit's unconfirmed "not converged" claims count against their volunteers (claims.ts). */
function failUnit(b: SchedulerBook, u: WorkUnit, error: UnitFailure, judge: boolean): void {
  b.pending.delete(u.id);
  b.put({ ...u, status: "failed", lease: null, error });
  b.outbox.push({ type: "unit-failed", unitId: u.id, jobId: u.jobId, error });
  unitTerminal(b, u.jobId);
  if (judge) takeBackFromNewlyBanned(b, penaliseClaims(b, u, b.now()));
}

/** After verdicts on these volunteers: take back the units of those now banned. */
export function takeBackFromNewlyBanned(b: SchedulerBook, volunteerIds: readonly string[]): void {
  const now = b.now();
  for (const id of volunteerIds) if (b.reputation.isBanned(id, now)) takeBackFromBanned(b, id);
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
