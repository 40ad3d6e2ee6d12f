import type { WorkUnit } from "../model.ts";
import type { SchedulerBook } from "./book.ts";
import {
  advertisedSpeedCap,
  estimatedFinishMs,
  meetsRequirements,
  speedFlopsPerMs,
  type VolunteerState,
} from "./volunteers.ts";

/** Placement policy: which pending unit goes to which volunteer, with what lease deadline. */

/** Leases pending units, in queue order, to usable volunteers with room; queues the "assign" actions. */
export function assignPending(b: SchedulerBook, now: number): void {
  if (b.pending.size === 0) return;
  const usable = [...b.volunteers.values()].filter(
    (v) => v.connected && now >= v.backoffUntilMs && !b.reputation.isBanned(v.peerId, now),
  );
  // An upper bound for the whole pass (chooseVolunteer applies each unit's own cap).
  const cap = maxCap(b);
  const roomy = (): boolean => usable.some((v) => v.inFlight.size < cap);
  if (!roomy()) return;
  const { maxLeaseMs, minLeaseMs, leaseSlack, heartbeatIntervalMs } = b.config;
  // Measured over the whole swarm the requester knows (not only who is free now), so the cap is stable.
  const speedCap = advertisedSpeedCap([...b.volunteers.values()], b.config.advertisedSpeedCap);
  for (const id of b.pending.ordered()) {
    const u = b.units.get(id)!;
    const v = chooseVolunteer(b, u, usable, speedCap);
    if (v === null) continue;
    const attempt = u.attempt + 1;
    const leaseMs = Math.min(
      maxLeaseMs,
      Math.max(minLeaseMs, (leaseSlack * u.costFlops) / speedFlopsPerMs(v, speedCap)),
    );
    const deadlineMs = now + Math.ceil(leaseMs);
    v.inFlight.add(u.id);
    v.queuedFlops += u.costFlops;
    b.pending.delete(u.id);
    b.leased.add(u.id);
    b.put({
      ...u,
      status: "leased",
      attempt,
      lease: { volunteerId: v.peerId, attempt, assignedAtMs: now, deadlineMs, lastHeartbeatMs: now },
    });
    b.outbox.push({
      type: "assign",
      volunteerId: v.peerId,
      unitId: u.id,
      jobId: u.jobId,
      attempt,
      deadlineMs,
      heartbeatIntervalMs,
    });
    if (!roomy()) return;
  }
}

/**
 * Units a volunteer may hold when offered `u`. The row blocks of a distributed solve must all be placed
 * before it can start, so with fewer volunteers than blocks a volunteer takes several (on top of K).
 */
function capFor(b: SchedulerBook, u: WorkUnit): number {
  return u.task.kind === "row-block" ? b.config.k + u.task.blocks - 1 : b.config.k;
}

/** The largest capFor over pending units (K when none is a row block). */
function maxCap(b: SchedulerBook): number {
  let cap = b.config.k;
  for (const id of b.pending.ordered()) {
    const u = b.units.get(id);
    if (u !== undefined) cap = Math.max(cap, capFor(b, u));
  }
  return cap;
}

/**
 * The volunteer that would finish this unit first, counting what it already holds. Volunteers that failed
 * the unit before are passed over while any other capable one exists, even a busy one (waiting for it
 * beats burning another attempt on a volunteer that already failed).
 */
function chooseVolunteer(
  b: SchedulerBook,
  u: WorkUnit,
  usable: readonly VolunteerState[],
  speedCap: number,
): VolunteerState | null {
  const capable = usable.filter((v) => meetsRequirements(v.capabilities, u.requirements));
  const fresh = capable.filter((v) => !u.failedBy.includes(v.peerId));
  const open = (fresh.length > 0 ? fresh : capable).filter((v) => v.inFlight.size < capFor(b, u));
  // Row blocks of one distributed solve go to distinct volunteers while there are enough of them: the
  // blocks compute in parallel, and a lost volunteer then costs one block, not several.
  const spread =
    u.task.kind === "row-block"
      ? open.filter((v) => ![...v.inFlight].some((id) => b.units.get(id)?.jobId === u.jobId))
      : open;
  const pool = spread.length > 0 ? spread : open;
  if (pool.length === 0) return null;
  let best = Infinity;
  let ties: VolunteerState[] = [];
  for (const v of pool) {
    const t = estimatedFinishMs(v, u.costFlops, speedCap);
    if (t < best * (1 - 1e-9)) {
      best = t;
      ties = [v];
    } else if (t <= best * (1 + 1e-9)) ties.push(v);
  }
  return ties[Math.min(ties.length - 1, Math.floor(b.config.random() * ties.length))]!;
}
