import type { CancelReason } from "../../protocol/jobs.ts";
import type { AttemptOutcome, SolveJob, WorkUnit } from "../model.ts";
import { PendingQueue } from "./pending-queue.ts";
import type { ReputationBook } from "../../trust/reputation.ts";
import type { SchedulerConfig } from "./config.ts";
import type { SchedulerAction, SchedulerChanges } from "./types.ts";
import type { VolunteerState } from "./volunteers.ts";

/** How one attempt ended: verified, or one of the outcomes that reissue (or fail) the unit. */
export type AttemptEnd = AttemptOutcome | "verified";

/**
 * The scheduler's records and indexes, its outbox of actions, and the journal of records changed since the
 * last drainChanges(). Every unit write goes through put() so the journal never misses one.
 */
export class SchedulerBook {
  readonly config: SchedulerConfig;
  readonly reputation: ReputationBook;

  readonly jobs = new Map<string, SolveJob>();
  /** Job ids in submission order, and each job's unit ids by index. */
  readonly jobOrder = new Map<string, number>();
  readonly jobUnits = new Map<string, string[]>();
  /** Units of a running job not yet done or failed. */
  readonly remaining = new Map<string, number>();
  readonly units = new Map<string, WorkUnit>();
  readonly pending = new PendingQueue();
  readonly leased = new Set<string>();
  readonly volunteers = new Map<string, VolunteerState>();
  readonly outbox: SchedulerAction[] = [];
  readonly dirtyJobs = new Set<string>();
  readonly dirtyUnits = new Set<string>();
  /**
   * How attempts ended since this scheduler was made: a verified result, or each AttemptOutcome. Read-only
   * figures for operators (the API server's Prometheus series); nothing decides on them or persists them.
   */
  readonly attemptEnds = new Map<AttemptEnd, number>();

  constructor(config: SchedulerConfig, reputation: ReputationBook) {
    this.config = config;
    this.reputation = reputation;
  }

  countEnd(end: AttemptEnd): void {
    this.attemptEnds.set(end, (this.attemptEnds.get(end) ?? 0) + 1);
  }

  now(): number {
    return this.config.now();
  }

  put(u: WorkUnit): void {
    this.units.set(u.id, u);
    this.dirtyUnits.add(u.id);
  }

  /** Assignment order: job submission order, then unit index (unit indices stay below 2^20). */
  queueKey(u: WorkUnit): number {
    return this.jobOrder.get(u.jobId)! * 2 ** 20 + u.index;
  }

  release(volunteerId: string, u: WorkUnit): void {
    const v = this.volunteers.get(volunteerId);
    if (v !== undefined && v.inFlight.delete(u.id)) v.queuedFlops = Math.max(0, v.queuedFlops - u.costFlops);
  }

  sendCancel(volunteerId: string, unitId: string, attempt: number, reason: CancelReason): void {
    if (this.volunteers.get(volunteerId)?.connected !== true) return;
    this.outbox.push({ type: "cancel", volunteerId, unitId, attempt, reason });
  }

  /** Every action produced since the previous call. */
  takeActions(): SchedulerAction[] {
    return this.outbox.splice(0, this.outbox.length);
  }

  /** Records changed since the previous call. */
  drainChanges(): SchedulerChanges {
    const jobs = [...this.dirtyJobs].map((id) => this.jobs.get(id)!);
    const units = [...this.dirtyUnits].map((id) => this.units.get(id)!);
    this.dirtyJobs.clear();
    this.dirtyUnits.clear();
    return { jobs, units, reputation: this.reputation.drainChanged() };
  }
}
