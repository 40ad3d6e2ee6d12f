import { appendCapped, type WorkUnit } from "../model.ts";

/**
 * What a reload means for persisted units. The requester's WebRTC connections die with the tab, so no
 * lease survives: a leased unit becomes pending again (its attempt is recorded as "requester-restarted",
 * not charged against maxAttempts, and the next issue gets a new attempt number, so a result of the old
 * attempt that still arrives is ignored as late). A unit whose result was received but not yet verified is
 * re-verified from the stored result if the result made it to storage, else it is recomputed. Verified
 * units stay done: their results are never recomputed.
 */
export interface ReverifyItem {
  readonly unitId: string;
  readonly attempt: number;
  readonly volunteerId: string;
}

export interface ResumedUnits {
  readonly units: WorkUnit[];
  /** Units left "verifying": verify their stored results again, then call Scheduler.onVerified. */
  readonly reverify: ReverifyItem[];
  /** How many units changed (leases dropped, unverifiable results given up). */
  readonly changed: number;
}

export function resumeUnits(
  units: readonly WorkUnit[],
  nowMs: number,
  hasStoredResult: (unitId: string, attempt: number) => boolean,
): ResumedUnits {
  const reverify: ReverifyItem[] = [];
  let changed = 0;
  const out = units.map((u): WorkUnit => {
    if (u.status === "verifying" && u.result !== null && hasStoredResult(u.id, u.result.attempt)) {
      reverify.push({ unitId: u.id, attempt: u.result.attempt, volunteerId: u.result.volunteerId });
      return u;
    }
    const holder = u.status === "leased" ? u.lease : u.status === "verifying" ? u.result : null;
    if (holder === null) return u;
    changed++;
    return {
      ...u,
      status: "pending",
      lease: null,
      result: null,
      history: appendCapped(u.history, {
        attempt: holder.attempt,
        volunteerId: holder.volunteerId,
        outcome: "requester-restarted",
        atMs: nowMs,
        detail:
          u.status === "leased"
            ? "the requester reloaded while the unit was leased"
            : "the requester reloaded before the result was stored",
        charged: false,
      }),
    };
  });
  return { units: out, reverify, changed };
}
