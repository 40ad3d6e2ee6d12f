import { JobError } from "./errors.ts";
import type { CancelReason, UnitErrorCode } from "./messages.ts";
import {
  appendCapped,
  unitIdOf,
  type AttemptOutcome,
  type Job,
  type JobOutcome,
  type JobStatus,
  type UnitFailure,
  type VolunteerInfo,
  type VolunteerView,
  type WorkUnit,
} from "./model.ts";
import { PendingQueue } from "./pending-queue.ts";
import { ReputationBook, type ReputationRecord } from "./reputation.ts";
import type { UnitDraft } from "./split.ts";
import {
  estimatedFinishMs,
  meetsRequirements,
  newVolunteerState,
  speedFlopsPerMs,
  updateSpeed,
  type VolunteerState,
} from "./volunteers.ts";

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
 */

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
  /** A unit fails as "not-converged" once this many different volunteers reported it (default 2). */
  readonly notConvergedQuorum?: number;
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
  /** "invalid": wrong answer (reputation drops). "not-converged": an honest report that the method did not
   *  converge, with the residual reached (no reputation change; retried elsewhere, see notConvergedQuorum). */
  | { readonly ok: false; readonly code: "invalid" | "not-converged"; readonly reason: string };

export interface SchedulerChanges {
  readonly jobs: Job[];
  readonly units: WorkUnit[];
  readonly reputation: ReputationRecord[];
}

export interface SchedulerState {
  readonly jobs: readonly Job[];
  readonly units: readonly WorkUnit[];
}

const DETAIL_CHARS = 160;
const clip = (s: string): string => (s.length > DETAIL_CHARS ? s.slice(0, DETAIL_CHARS - 1) + "…" : s);

interface EndAttempt {
  readonly outcome: AttemptOutcome;
  readonly detail: string;
  readonly charged: boolean;
  /** Send the volunteer a cancel (it may still be working). */
  readonly cancel: CancelReason | null;
}

export class Scheduler {
  readonly reputation: ReputationBook;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #maxAttempts: number;
  readonly #k: number;
  readonly #heartbeatIntervalMs: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #minLeaseMs: number;
  readonly #maxLeaseMs: number;
  readonly #leaseSlack: number;
  readonly #notConvergedQuorum: number;
  readonly #declineBackoffMs: number;
  readonly #alpha: number;

  readonly #jobs = new Map<string, Job>();
  /** Job ids in submission order, and each job's unit ids by index. */
  readonly #jobOrder = new Map<string, number>();
  readonly #jobUnits = new Map<string, string[]>();
  /** Units of a running job not yet done or failed. */
  readonly #remaining = new Map<string, number>();
  readonly #units = new Map<string, WorkUnit>();
  readonly #pending = new PendingQueue();
  readonly #leased = new Set<string>();
  readonly #volunteers = new Map<string, VolunteerState>();
  #outbox: SchedulerAction[] = [];
  readonly #dirtyJobs = new Set<string>();
  readonly #dirtyUnits = new Set<string>();

  constructor(options: SchedulerOptions) {
    this.#now = options.nowMs;
    this.#random = options.random;
    this.reputation = options.reputation ?? new ReputationBook();
    this.#maxAttempts = positiveInt("maxAttempts", options.maxAttempts ?? 5);
    this.#k = positiveInt("maxInFlightPerVolunteer", options.maxInFlightPerVolunteer ?? 2);
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2_000;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 10_000;
    this.#minLeaseMs = options.minLeaseMs ?? 60_000;
    this.#maxLeaseMs = options.maxLeaseMs ?? 30 * 60_000;
    this.#leaseSlack = options.leaseSlack ?? 2;
    this.#notConvergedQuorum = positiveInt("notConvergedQuorum", options.notConvergedQuorum ?? 2);
    this.#declineBackoffMs = options.declineBackoffMs ?? 5_000;
    this.#alpha = options.speedEwmaAlpha ?? 0.3;
    if (!(this.#heartbeatTimeoutMs > this.#heartbeatIntervalMs)) {
      throw new JobError("invalid-spec", "heartbeatTimeoutMs must exceed heartbeatIntervalMs");
    }
    if (!(this.#minLeaseMs > 0 && this.#maxLeaseMs >= this.#minLeaseMs)) {
      throw new JobError("invalid-spec", "lease bounds must satisfy 0 < minLeaseMs ≤ maxLeaseMs");
    }
  }

  // ── jobs ────────────────────────────────────────────────────────────────────────────────────────────

  /** Adds a running job and its units (from planJob), all pending. */
  addJob(job: Job, drafts: readonly UnitDraft[]): void {
    if (this.#jobs.has(job.id)) throw new JobError("duplicate-job", `job ${job.id} already exists`);
    if (job.status !== "running") throw new JobError("invalid-state", `job ${job.id} is ${job.status}`);
    if (drafts.length === 0) throw new JobError("invalid-spec", `job ${job.id} has no units`);
    const indices = drafts.map((d) => d.index).sort((p, q) => p - q);
    if (indices.some((ix, i) => ix !== i)) {
      throw new JobError("invalid-spec", `unit indices of job ${job.id} must be 0..${drafts.length - 1}`);
    }
    const units: WorkUnit[] = drafts.map((d) => ({
      id: unitIdOf(job.id, d.index),
      jobId: job.id,
      index: d.index,
      attempt: 0,
      status: "pending",
      requirements: d.requirements,
      task: d.task,
      costFlops: d.costFlops,
      lease: null,
      attemptsUsed: 0,
      failedBy: [],
      resultsSeen: [],
      history: [],
      result: null,
      error: null,
    }));
    this.#insert([job], units);
  }

  /**
   * Loads persisted state into an empty scheduler (after a reload). Leased units must have been turned
   * back into pending ones first (resume.ts): their volunteers' connections did not survive the reload.
   */
  restore(state: SchedulerState): void {
    if (this.#jobs.size > 0) throw new JobError("invalid-state", "restore() needs an empty scheduler");
    const bad = state.units.find((u) => u.status === "leased" || !state.jobs.some((j) => j.id === u.jobId));
    if (bad !== undefined) {
      throw new JobError(
        "invalid-state",
        bad.status === "leased"
          ? `unit ${bad.id} is still leased: normalise the state with resumeUnits() first`
          : `unit ${bad.id} belongs to no restored job`,
      );
    }
    this.#insert(state.jobs, state.units, false);
  }

  #insert(jobs: readonly Job[], units: readonly WorkUnit[], dirty = true): void {
    for (const job of [...jobs].sort((p, q) => p.createdAtMs - q.createdAtMs)) {
      this.#jobs.set(job.id, job);
      this.#jobOrder.set(job.id, this.#jobOrder.size);
      this.#jobUnits.set(job.id, []);
      this.#remaining.set(job.id, 0);
      if (dirty) this.#dirtyJobs.add(job.id);
    }
    for (const u of [...units].sort((p, q) => p.index - q.index)) {
      this.#units.set(u.id, u);
      this.#jobUnits.get(u.jobId)!.push(u.id);
      if (u.status !== "done" && u.status !== "failed") {
        this.#remaining.set(u.jobId, this.#remaining.get(u.jobId)! + 1);
      }
      if (u.status === "pending") this.#pending.add(u.id, this.#queueKey(u));
      if (dirty) this.#dirtyUnits.add(u.id);
    }
    for (const job of jobs) this.#maybeFinishJob(job.id);
  }

  /** Cancels a running job: its leased units get a cancel, every unfinished unit fails "job-cancelled". */
  cancelJob(jobId: string): boolean {
    const job = this.#jobs.get(jobId);
    if (job === undefined || job.status !== "running") return false;
    const now = this.#now();
    for (const id of this.#jobUnits.get(jobId)!) {
      const u = this.#units.get(id)!;
      if (u.status === "done" || u.status === "failed") continue;
      let history = u.history;
      if (u.status === "leased") {
        const lease = u.lease!;
        this.#release(lease.volunteerId, u);
        this.#sendCancel(lease.volunteerId, u.id, lease.attempt, "job-cancelled");
        history = appendCapped(history, {
          attempt: lease.attempt,
          volunteerId: lease.volunteerId,
          outcome: "job-cancelled",
          atMs: now,
          detail: "the requester cancelled the job",
          charged: false,
        });
      }
      this.#pending.delete(id);
      this.#leased.delete(id);
      this.#put({
        ...u,
        status: "failed",
        lease: null,
        history,
        error: { code: "job-cancelled", message: `job ${jobId} was cancelled` },
      });
    }
    this.#remaining.set(jobId, 0);
    this.#finishJob(jobId, "cancelled", now);
    return true;
  }

  // ── volunteers ──────────────────────────────────────────────────────────────────────────────────────

  /** The current directory of volunteers: new ones join, known ones update, missing ones disconnect. */
  volunteersChanged(list: readonly VolunteerInfo[]): void {
    const present = new Set(list.map((v) => v.peerId));
    for (const v of this.#volunteers.values())
      if (v.connected && !present.has(v.peerId)) this.onDisconnect(v.peerId);
    for (const info of list) {
      const v = this.#volunteers.get(info.peerId);
      if (v === undefined)
        this.#volunteers.set(info.peerId, newVolunteerState(info.peerId, info.capabilities));
      else {
        v.capabilities = info.capabilities;
        v.connected = true;
      }
    }
  }

  /** The volunteer is gone: each unit it held is reissued at the next tick (no waiting for the lease). */
  onDisconnect(volunteerId: string): void {
    const v = this.#volunteers.get(volunteerId);
    if (v === undefined || !v.connected) return;
    v.connected = false;
    for (const id of [...v.inFlight]) {
      this.#endLease(this.#units.get(id)!, {
        outcome: "disconnected",
        detail: "the volunteer disconnected",
        charged: true,
        cancel: null,
      });
    }
  }

  // ── unit events ─────────────────────────────────────────────────────────────────────────────────────

  onHeartbeat(unitId: string, attempt: number, volunteerId: string): HeartbeatVerdict {
    const u = this.#units.get(unitId);
    if (u === undefined || !Number.isInteger(attempt) || attempt < 1 || attempt > u.attempt)
      return "ignored-unknown";
    const lease = u.lease;
    if (u.status === "leased" && lease !== null && lease.attempt === attempt) {
      if (lease.volunteerId !== volunteerId) return "ignored-unknown";
      const now = this.#now();
      if (now > lease.lastHeartbeatMs) this.#put({ ...u, lease: { ...lease, lastHeartbeatMs: now } });
      return "ok";
    }
    // An attempt that is over: tell its volunteer to stop, unless that attempt's result is already in.
    if (u.result?.attempt !== attempt) this.#sendCancel(volunteerId, unitId, attempt, "stale-attempt");
    return "ignored-late";
  }

  /**
   * A result arrived (its data is the integrator's to keep, keyed by unit id and attempt). Only the live
   * attempt's own volunteer gets "accept-for-verification"; then verify it and call onVerified.
   * `workFlops` is the work the result represents, for the speed estimate: `solveCostFlops(n, nnz,
   * total iterations, 1)` from the result's iteration counts; by default the unit's worst-case cost.
   */
  onResult(unitId: string, attempt: number, volunteerId: string, workFlops?: number): ResultVerdict {
    const u = this.#units.get(unitId);
    if (u === undefined || !Number.isInteger(attempt) || attempt < 1 || attempt > u.attempt)
      return "ignored-unknown";
    if (u.resultsSeen.includes(attempt)) return "ignored-duplicate";
    const lease = u.lease;
    if (u.status !== "leased" || lease === null || lease.attempt !== attempt) return "ignored-late";
    if (lease.volunteerId !== volunteerId) return "ignored-unknown";
    const now = this.#now();
    // Service time, not time in the queue: volunteers compute their units one at a time, so a unit that
    // waited behind another started when that one's result arrived.
    const v = this.#volunteers.get(volunteerId);
    const startedAtMs = Math.max(lease.assignedAtMs, v?.lastResultAtMs ?? 0);
    if (v !== undefined) v.lastResultAtMs = now;
    this.#release(volunteerId, u);
    this.#leased.delete(unitId);
    this.#put({
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

  /** The requester's verdict on the result it accepted. Returns false when it no longer applies. */
  onVerified(unitId: string, attempt: number, verdict: VerificationVerdict): boolean {
    const u = this.#units.get(unitId);
    if (u === undefined || u.status !== "verifying" || u.result === null || u.result.attempt !== attempt) {
      return false;
    }
    const { volunteerId } = u.result;
    if (verdict.ok) {
      this.reputation.recordValid(volunteerId);
      const v = this.#volunteers.get(volunteerId);
      if (v !== undefined) updateSpeed(v, u.result.workFlops, u.result.elapsedMs, this.#alpha);
      this.#put({ ...u, status: "done" });
      this.#unitTerminal(u.jobId);
      return true;
    }
    const now = this.#now();
    if (verdict.code === "invalid") this.reputation.recordInvalid(volunteerId, now);
    this.#endAttempt(u, volunteerId, attempt, {
      outcome: verdict.code === "invalid" ? "invalid-result" : "not-converged",
      detail: verdict.reason,
      charged: true,
      cancel: null,
    });
    if (verdict.code === "invalid" && this.reputation.isBanned(volunteerId, now)) this.#banned(volunteerId);
    return true;
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
    const u = this.#units.get(unitId);
    if (u === undefined || !Number.isInteger(attempt) || attempt < 1 || attempt > u.attempt)
      return "ignored-unknown";
    const lease = u.lease;
    if (u.status !== "leased" || lease === null || lease.attempt !== attempt) return "ignored-late";
    if (lease.volunteerId !== volunteerId) return "ignored-unknown";
    const polite = code === "declined" || code === "cancelled";
    if (polite) {
      const v = this.#volunteers.get(volunteerId);
      if (v !== undefined) v.backoffUntilMs = this.#now() + this.#declineBackoffMs;
    }
    this.#endLease(u, {
      outcome: polite ? "declined" : "volunteer-error",
      detail: `${code}: ${detail}`,
      charged: !polite,
      cancel: null,
    });
    return "ok";
  }

  // ── time ────────────────────────────────────────────────────────────────────────────────────────────

  /** Expires leases, assigns pending units, and returns every action produced since the last tick. */
  tick(): SchedulerAction[] {
    const now = this.#now();
    for (const id of [...this.#leased]) {
      const u = this.#units.get(id)!;
      const lease = u.lease!;
      if (now >= lease.deadlineMs) {
        this.#endLease(u, {
          outcome: "deadline-expired",
          detail: `no result by the deadline (${lease.deadlineMs - lease.assignedAtMs} ms after assignment)`,
          charged: true,
          cancel: "deadline-expired",
        });
      } else if (now - lease.lastHeartbeatMs > this.#heartbeatTimeoutMs) {
        this.#endLease(u, {
          outcome: "heartbeat-timeout",
          detail: `no heartbeat for ${now - lease.lastHeartbeatMs} ms`,
          charged: true,
          cancel: "heartbeat-timeout",
        });
      }
    }
    this.#assign(now);
    const out = this.#outbox;
    this.#outbox = [];
    return out;
  }

  #assign(now: number): void {
    if (this.#pending.size === 0) return;
    const usable = [...this.#volunteers.values()].filter(
      (v) => v.connected && now >= v.backoffUntilMs && !this.reputation.isBanned(v.peerId, now),
    );
    // An upper bound for the whole pass (#choose applies each unit's own cap).
    const maxCap = this.#maxCap;
    const roomy = (): boolean => usable.some((v) => v.inFlight.size < maxCap);
    if (!roomy()) return;
    for (const id of this.#pending.ordered()) {
      const u = this.#units.get(id)!;
      const v = this.#choose(u, usable);
      if (v === null) continue;
      const attempt = u.attempt + 1;
      const leaseMs = Math.min(
        this.#maxLeaseMs,
        Math.max(this.#minLeaseMs, (this.#leaseSlack * u.costFlops) / speedFlopsPerMs(v)),
      );
      const deadlineMs = now + Math.ceil(leaseMs);
      v.inFlight.add(u.id);
      v.queuedFlops += u.costFlops;
      this.#pending.delete(u.id);
      this.#leased.add(u.id);
      this.#put({
        ...u,
        status: "leased",
        attempt,
        lease: { volunteerId: v.peerId, attempt, assignedAtMs: now, deadlineMs, lastHeartbeatMs: now },
      });
      this.#outbox.push({
        type: "assign",
        volunteerId: v.peerId,
        unitId: u.id,
        jobId: u.jobId,
        attempt,
        deadlineMs,
        heartbeatIntervalMs: this.#heartbeatIntervalMs,
      });
      if (!roomy()) return;
    }
  }

  /**
   * The volunteer that would finish this unit first, counting what it already holds. Volunteers that failed
   * the unit before are passed over while any other capable one exists, even a busy one (waiting for it
   * beats burning another attempt on a volunteer that already failed).
   */
  /**
   * Units a volunteer may hold when offered `u`. The row blocks of a distributed solve must all be placed
   * before it can start, so with fewer volunteers than blocks a volunteer takes several (on top of K).
   */
  #capFor(u: WorkUnit): number {
    return u.task.kind === "row-block" ? this.#k + u.task.blocks - 1 : this.#k;
  }

  /** The largest #capFor over pending units (K when none is a row block). */
  get #maxCap(): number {
    let cap = this.#k;
    for (const id of this.#pending.ordered()) {
      const u = this.#units.get(id);
      if (u !== undefined) cap = Math.max(cap, this.#capFor(u));
    }
    return cap;
  }

  #choose(u: WorkUnit, usable: readonly VolunteerState[]): VolunteerState | null {
    const capable = usable.filter((v) => meetsRequirements(v.capabilities, u.requirements));
    const fresh = capable.filter((v) => !u.failedBy.includes(v.peerId));
    const open = (fresh.length > 0 ? fresh : capable).filter((v) => v.inFlight.size < this.#capFor(u));
    // Row blocks of one distributed solve go to distinct volunteers while there are enough of them: the
    // blocks compute in parallel, and a lost volunteer then costs one block, not several.
    const spread =
      u.task.kind === "row-block"
        ? open.filter((v) => ![...v.inFlight].some((id) => this.#units.get(id)?.jobId === u.jobId))
        : open;
    const pool = spread.length > 0 ? spread : open;
    if (pool.length === 0) return null;
    let best = Infinity;
    let ties: VolunteerState[] = [];
    for (const v of pool) {
      const t = estimatedFinishMs(v, u.costFlops);
      if (t < best * (1 - 1e-9)) {
        best = t;
        ties = [v];
      } else if (t <= best * (1 + 1e-9)) ties.push(v);
    }
    return ties[Math.min(ties.length - 1, Math.floor(this.#random() * ties.length))]!;
  }

  // ── attempts ending ─────────────────────────────────────────────────────────────────────────────────

  #endLease(u: WorkUnit, end: EndAttempt): void {
    const lease = u.lease!;
    this.#release(lease.volunteerId, u);
    this.#leased.delete(u.id);
    if (end.cancel !== null) this.#sendCancel(lease.volunteerId, u.id, lease.attempt, end.cancel);
    this.#endAttempt(u, lease.volunteerId, lease.attempt, end);
  }

  /** Records how the attempt ended; the unit goes back to pending, or fails when out of attempts. */
  #endAttempt(u: WorkUnit, volunteerId: string, attempt: number, end: EndAttempt): void {
    const now = this.#now();
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
    const notConverged = new Set(
      next.history.filter((h) => h.outcome === "not-converged").map((h) => h.volunteerId),
    );
    if (notConverged.size >= this.#notConvergedQuorum) {
      this.#fail(next, {
        code: "not-converged",
        message:
          `unit ${u.id}: the method did not converge on ${notConverged.size} volunteers; last report: ` +
          clip(end.detail),
      });
    } else if (next.attemptsUsed >= this.#maxAttempts) {
      const charged = next.history.filter((h) => h.charged).slice(-this.#maxAttempts);
      const lines = charged.map(
        (h) => `#${h.attempt} ${h.volunteerId.slice(0, 10)} ${h.outcome}: ${h.detail}`,
      );
      this.#fail(next, {
        code: "max-attempts",
        message: `unit ${u.id} failed after ${next.attemptsUsed} attempts (${lines.join("; ")})`,
      });
    } else {
      this.#pending.add(u.id, this.#queueKey(u));
      this.#put(next);
    }
  }

  #fail(u: WorkUnit, error: UnitFailure): void {
    this.#pending.delete(u.id);
    this.#put({ ...u, status: "failed", lease: null, error });
    this.#outbox.push({ type: "unit-failed", unitId: u.id, jobId: u.jobId, error });
    this.#unitTerminal(u.jobId);
  }

  /** Newly banned: take back its units (not charged to them: the requester decided) and cancel its work. */
  #banned(volunteerId: string): void {
    const v = this.#volunteers.get(volunteerId);
    if (v === undefined) return;
    for (const id of [...v.inFlight]) {
      this.#endLease(this.#units.get(id)!, {
        outcome: "volunteer-banned",
        detail: "the volunteer's results keep failing verification",
        charged: false,
        cancel: "volunteer-banned",
      });
    }
  }

  /** Assignment order: job submission order, then unit index (unit indices stay below 2^20). */
  #queueKey(u: WorkUnit): number {
    return this.#jobOrder.get(u.jobId)! * 2 ** 20 + u.index;
  }

  #release(volunteerId: string, u: WorkUnit): void {
    const v = this.#volunteers.get(volunteerId);
    if (v !== undefined && v.inFlight.delete(u.id)) v.queuedFlops = Math.max(0, v.queuedFlops - u.costFlops);
  }

  #sendCancel(volunteerId: string, unitId: string, attempt: number, reason: CancelReason): void {
    if (this.#volunteers.get(volunteerId)?.connected !== true) return;
    this.#outbox.push({ type: "cancel", volunteerId, unitId, attempt, reason });
  }

  // ── job completion ──────────────────────────────────────────────────────────────────────────────────

  #unitTerminal(jobId: string): void {
    this.#remaining.set(jobId, Math.max(0, this.#remaining.get(jobId)! - 1));
    this.#maybeFinishJob(jobId);
  }

  #maybeFinishJob(jobId: string): void {
    const job = this.#jobs.get(jobId)!;
    if (job.status !== "running" || this.#remaining.get(jobId)! > 0) return;
    const failed = this.#jobUnits.get(jobId)!.some((id) => this.#units.get(id)!.status === "failed");
    this.#finishJob(jobId, failed ? "failed" : "done", this.#now());
  }

  #finishJob(jobId: string, status: Exclude<JobStatus, "running">, now: number): void {
    const job = this.#jobs.get(jobId)!;
    const units = this.#jobUnits.get(jobId)!.map((id) => this.#units.get(id)!);
    const done = units.filter((u) => u.status === "done").length;
    const failures = units
      .filter((u) => u.status === "failed" && u.error !== null)
      .map((u) => ({ unitId: u.id, code: u.error!.code, message: u.error!.message }));
    const message =
      status === "cancelled"
        ? `cancelled with ${done} of ${units.length} units verified`
        : status === "done"
          ? `all ${units.length} units verified`
          : `${failures.length} of ${units.length} units failed: ${failures[0]?.message ?? ""}`;
    const outcome: JobOutcome = {
      finishedAtMs: now,
      unitsDone: done,
      unitsFailed: failures.length,
      message,
      failures: failures.slice(0, 20),
    };
    this.#jobs.set(jobId, { ...job, status, outcome });
    this.#dirtyJobs.add(jobId);
    this.#outbox.push({ type: "job-finished", jobId, status, outcome });
  }

  #put(u: WorkUnit): void {
    this.#units.set(u.id, u);
    this.#dirtyUnits.add(u.id);
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────────────

  /** Records changed since the previous call: persist them (JobRepository.saveChanges). */
  drainChanges(): SchedulerChanges {
    const jobs = [...this.#dirtyJobs].map((id) => this.#jobs.get(id)!);
    const units = [...this.#dirtyUnits].map((id) => this.#units.get(id)!);
    this.#dirtyJobs.clear();
    this.#dirtyUnits.clear();
    return { jobs, units, reputation: this.reputation.drainChanged() };
  }

  job(jobId: string): Job | undefined {
    return this.#jobs.get(jobId);
  }

  jobs(): Job[] {
    return [...this.#jobs.values()];
  }

  unit(unitId: string): WorkUnit | undefined {
    return this.#units.get(unitId);
  }

  unitsOf(jobId: string): WorkUnit[] {
    return (this.#jobUnits.get(jobId) ?? []).map((id) => this.#units.get(id)!);
  }

  volunteers(): VolunteerView[] {
    const now = this.#now();
    return [...this.#volunteers.values()].map((v) => ({
      peerId: v.peerId,
      capabilities: v.capabilities,
      connected: v.connected,
      measuredFlopsPerMs: v.measuredFlopsPerMs,
      inFlight: v.inFlight.size,
      banned: this.reputation.isBanned(v.peerId, now),
    }));
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new JobError("invalid-spec", `${name} must be a positive integer`);
  return v;
}
