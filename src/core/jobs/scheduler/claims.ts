import type { WorkUnit } from "../model.ts";
import type { SchedulerBook } from "./book.ts";
import { meetsRequirements } from "./volunteers.ts";

/**
 * "Did not converge" is a claim, not a verdict. The requester checked that the residual the volunteer
 * reports is the one its x has and that it made progress (result-check.ts), but a griefer can still stop
 * after a few iterations and say so, honestly-looking, on every unit it attracts. So the claim is judged
 * when the unit ends:
 *  - someone else's result converged and was verified: every claim on the unit was false (same matrix,
 *    method, tolerance and iteration budget) and counts as an invalid result against its volunteer;
 *  - a trusted volunteer (reputation) or the requester's own volunteer made the same claim, or the
 *    requester's own computation found it (a distributed solve it coordinated and certified): confirmed,
 *    no reputation change, and with the quorum the unit fails as "not_converged";
 *  - the unit failed otherwise (out of attempts, or no one left to ask): unconfirmed, counted as invalid.
 * Judgement happens at the unit's one transition to done or failed, so a reload never judges twice.
 */

/** The distinct volunteers that reported "not-converged" on this unit (the requester's own findings too). */
export function claimants(u: WorkUnit): Set<string> {
  return new Set(u.history.filter((h) => h.outcome === "not-converged").map((h) => h.volunteerId));
}

/** Claims the requester did not confirm itself: these are what a volunteer can be blamed for. */
function unconfirmedClaimants(u: WorkUnit): Set<string> {
  return new Set(
    u.history.filter((h) => h.outcome === "not-converged" && h.confirmed !== true).map((h) => h.volunteerId),
  );
}

/** A trusted volunteer, or the requester's own, backs the claim. */
export function isConfirmer(b: SchedulerBook, volunteerId: string): boolean {
  return volunteerId === b.config.selfId || b.reputation.isTrusted(volunteerId);
}

export function claimConfirmed(b: SchedulerBook, u: WorkUnit): boolean {
  if (u.history.some((h) => h.outcome === "not-converged" && h.confirmed === true)) return true;
  return [...claimants(u)].some((id) => isConfirmer(b, id));
}

/** The claims on a unit that ended without confirming them count as invalid results (not for `selfId`). */
export function penaliseClaims(b: SchedulerBook, u: WorkUnit, now: number): string[] {
  const penalised: string[] = [];
  for (const id of unconfirmedClaimants(u)) {
    if (id === b.config.selfId) continue;
    b.reputation.recordInvalid(id, now);
    penalised.push(id);
  }
  return penalised;
}

/**
 * Honest capacity left for the unit: a connected, unbanned, capable volunteer with no charged failure on
 * it (one that only declined it, being paused, still counts). While there is one, attempts lost to
 * unconfirmed claims do not use up the unit's budget.
 */
export function freshCapacity(b: SchedulerBook, u: WorkUnit, now: number): boolean {
  const failed = new Set(u.history.filter((h) => h.charged).map((h) => h.volunteerId));
  for (const v of b.volunteers.values()) {
    if (!v.connected || failed.has(v.peerId) || b.reputation.isBanned(v.peerId, now)) continue;
    if (meetsRequirements(v.capabilities, u.requirements)) return true;
  }
  return false;
}
