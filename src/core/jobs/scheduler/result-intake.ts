import { endAttempt, endLease, takeBackFromBanned, takeBackFromNewlyBanned } from "./attempt-end.ts";
import { penaliseClaims } from "./claims.ts";
import { unitTerminal } from "./job-completion.ts";
import type { UnitErrorCode } from "../../protocol/jobs.ts";
import { appendCapped } from "../model.ts";
import type { SchedulerBook } from "./book.ts";
import type { HeartbeatVerdict, ResultVerdict, VerificationVerdict } from "./types.ts";
import { updateSpeed } from "./volunteers.ts";

/**
 * What volunteers report about their attempts (heartbeats, results, errors) and the requester's verdicts on
 * results. Each report is matched to the unit's live attempt by (unit id, attempt, volunteer): anything
 * else is late, duplicate or unknown, and is ignored.
 */

export function heartbeat(
  b: SchedulerBook,
  unitId: string,
  attempt: number,
  volunteerId: string,
): HeartbeatVerdict {
  const u = b.units.get(unitId);
  if (u === undefined || !Number.isInteger(attempt) || attempt < 1 || attempt > u.attempt)
    return "ignored-unknown";
  const lease = u.lease;
  if (u.status === "leased" && lease !== null && lease.attempt === attempt) {
    if (lease.volunteerId !== volunteerId) return "ignored-unknown";
    const now = b.now();
    if (now > lease.lastHeartbeatMs) b.put({ ...u, lease: { ...lease, lastHeartbeatMs: now } });
    return "ok";
  }
  // An attempt that is over: tell its volunteer to stop, unless that attempt's result is already in.
  if (u.result?.attempt !== attempt) b.sendCancel(volunteerId, unitId, attempt, "stale-attempt");
  return "ignored-late";
}

export function result(
  b: SchedulerBook,
  unitId: string,
  attempt: number,
  volunteerId: string,
  workFlops?: number,
): ResultVerdict {
  const u = b.units.get(unitId);
  if (u === undefined || !Number.isInteger(attempt) || attempt < 1 || attempt > u.attempt)
    return "ignored-unknown";
  if (u.resultsSeen.includes(attempt)) return "ignored-duplicate";
  const lease = u.lease;
  if (u.status !== "leased" || lease === null || lease.attempt !== attempt) return "ignored-late";
  if (lease.volunteerId !== volunteerId) return "ignored-unknown";
  const now = b.now();
  // Service time, not time in the queue: volunteers compute their units one at a time, so a unit that
  // waited behind another started when that one's result arrived.
  const v = b.volunteers.get(volunteerId);
  const startedAtMs = Math.max(lease.assignedAtMs, v?.lastResultAtMs ?? 0);
  if (v !== undefined) v.lastResultAtMs = now;
  b.release(volunteerId, u);
  b.leased.delete(unitId);
  b.put({
    ...u,
    status: "verifying",
    lease: null,
    resultsSeen: appendCapped(u.resultsSeen, attempt),
    result: {
      attempt,
      volunteerId,
      receivedAtMs: now,
      elapsedMs: Math.max(0, now - startedAtMs),
      workFlops: workFlops !== undefined && workFlops > 0 ? workFlops : u.costFlops,
    },
  });
  return "accept-for-verification";
}

export function verified(
  b: SchedulerBook,
  unitId: string,
  attempt: number,
  verdict: VerificationVerdict,
): boolean {
  const u = b.units.get(unitId);
  if (u === undefined || u.status !== "verifying" || u.result === null || u.result.attempt !== attempt) {
    return false;
  }
  const { volunteerId } = u.result;
  if (verdict.ok) {
    b.reputation.recordValid(volunteerId);
    const v = b.volunteers.get(volunteerId);
    if (v !== undefined) updateSpeed(v, u.result.workFlops, u.result.elapsedMs, b.config.alpha);
    b.put({ ...u, status: "done" });
    b.countEnd("verified");
    unitTerminal(b, u.jobId);
    // Converged here: whoever said this unit does not converge was wrong (claims.ts).
    takeBackFromNewlyBanned(b, penaliseClaims(b, u, b.now()));
    return true;
  }
  const now = b.now();
  if (verdict.code === "invalid") b.reputation.recordInvalid(volunteerId, now);
  endAttempt(b, u, volunteerId, attempt, {
    outcome: verdict.code === "invalid" ? "invalid-result" : "not-converged",
    detail: verdict.reason,
    charged: true,
    cancel: null,
    confirmed: verdict.confirmed === true,
  });
  if (verdict.code === "invalid" && b.reputation.isBanned(volunteerId, now))
    takeBackFromBanned(b, volunteerId);
  return true;
}

export function unitError(
  b: SchedulerBook,
  unitId: string,
  attempt: number,
  volunteerId: string,
  code: UnitErrorCode,
  detail: string,
): HeartbeatVerdict {
  const u = b.units.get(unitId);
  if (u === undefined || !Number.isInteger(attempt) || attempt < 1 || attempt > u.attempt)
    return "ignored-unknown";
  const lease = u.lease;
  if (u.status !== "leased" || lease === null || lease.attempt !== attempt) return "ignored-late";
  if (lease.volunteerId !== volunteerId) return "ignored-unknown";
  const polite = code === "declined" || code === "cancelled";
  if (polite) {
    const v = b.volunteers.get(volunteerId);
    if (v !== undefined) v.backoffUntilMs = b.now() + b.config.declineBackoffMs;
  }
  endLease(b, u, {
    outcome: polite ? "declined" : "volunteer-error",
    detail: `${code}: ${detail}`,
    charged: !polite,
    cancel: null,
  });
  return "ok";
}

/**
 * The requester proved, by an exact check, that the live attempt's volunteer lied on purpose (a
 * distributed block whose own messages contradict each other): banned at once, the unit is reissued and
 * everything else it holds taken back. Returns false when the attempt is no longer live.
 */
export function provenFault(
  b: SchedulerBook,
  unitId: string,
  attempt: number,
  volunteerId: string,
  detail: string,
): boolean {
  const u = b.units.get(unitId);
  const lease = u?.lease;
  if (u === undefined || u.status !== "leased" || lease == null) return false;
  if (lease.attempt !== attempt || lease.volunteerId !== volunteerId) return false;
  b.reputation.recordProvenFault(volunteerId, b.now());
  endLease(b, u, { outcome: "invalid-result", detail, charged: true, cancel: "volunteer-banned" });
  takeBackFromBanned(b, volunteerId);
  return true;
}
