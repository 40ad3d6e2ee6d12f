/**
 * Where a job's latency went, for bench:scale's jobs phase. A requester process reads it from the job's own
 * units (JobTiming); the phase joins it with the wall-clock times it SIGKILLed volunteers and reports the
 * slow tail: were those jobs waiting on a killed volunteer's lease (and how long the requester took to
 * notice), queued, or slow to compute? All times are wall-clock ms (Date.now: one machine, one clock).
 */
import type { WorkUnit } from "../../src/core/jobs/model.ts";
import { median } from "../experts/stats.ts";

/** An attempt that ended without a result (a kill shows as "disconnected" or "heartbeat-timeout"). */
export interface Reissue {
  readonly volunteerId: string;
  readonly outcome: string;
  readonly atMs: number;
  readonly detail: string;
}

export interface JobTiming {
  readonly submitMs: number;
  /** Submit to the assignment (or the volunteer's previous result) of the attempt whose result finished it:
   *  requester queueing, queueing at a volunteer, and any attempt that was lost before. */
  readonly waitMs: number;
  /** That attempt's service time as the requester saw it (transfers included). */
  readonly serviceMs: number;
  /** Its result's arrival to the job's end (verification, the store). */
  readonly afterMs: number;
  readonly reissues: readonly Reissue[];
}

/** The job's timing from its units once it ended at `endMs`; null if no unit has a result. */
export function jobTiming(submitMs: number, endMs: number, units: readonly WorkUnit[]): JobTiming | null {
  const reissues = units.flatMap((u) =>
    u.history.map((h) => ({
      volunteerId: h.volunteerId,
      outcome: h.outcome,
      atMs: h.atMs,
      detail: h.detail,
    })),
  );
  let last: WorkUnit["result"] = null;
  for (const u of units)
    if (u.result && (!last || u.result.receivedAtMs > last.receivedAtMs)) last = u.result;
  if (!last) return null;
  const startedMs = last.receivedAtMs - last.elapsedMs;
  return {
    submitMs,
    waitMs: Math.max(0, startedMs - submitMs),
    serviceMs: last.elapsedMs,
    afterMs: Math.max(0, endMs - last.receivedAtMs),
    reissues,
  };
}

/** A killed volunteer: its peer id and when the bench sent SIGKILL. */
export interface Kill {
  readonly peerId: string;
  readonly atMs: number;
}

export interface TailJob {
  readonly latencyMs: number;
  readonly cause: string;
  readonly waitMs: number;
  readonly serviceMs: number;
  readonly afterMs: number;
  /** For a job that lost a unit to a killed volunteer: SIGKILL to the requester ending that lease. */
  readonly noticedAfterKillMs: number | null;
  /** Its lost attempts: "outcome at +ms after submit (volunteer id prefix): detail". */
  readonly lost: readonly string[];
}

export interface LatencyBreakdown {
  /** The slow tail: jobs at or above this latency (the 95th percentile). */
  readonly tailFromMs: number;
  readonly tail: readonly TailJob[];
  /** Tail jobs per cause. */
  readonly tailCauses: Record<string, number>;
  /** Every job that lost an attempt to a killed volunteer: how many, and their median latency. */
  readonly jobsHitByKills: number;
  readonly hitLatencyMsP50: number | null;
  readonly otherLatencyMsP50: number | null;
  /** SIGKILL to the lease's end, per outcome: how the requester noticed, and how fast (median, max). */
  readonly noticed: Record<string, { count: number; p50Ms: number | null; maxMs: number }>;
}

interface TimedJob {
  readonly latencyMs: number;
  readonly timing: JobTiming | null;
}

/** The lease its killed volunteer held, if the job lost one: outcome and SIGKILL-to-reissue time. */
function killedLease(timing: JobTiming, kills: ReadonlyMap<string, number>): Reissue | null {
  return timing.reissues.find((r) => kills.has(r.volunteerId) && r.atMs >= kills.get(r.volunteerId)!) ?? null;
}

function causeOf(timing: JobTiming | null, lost: Reissue | null): string {
  if (timing === null) return "no result";
  if (lost) return `volunteer killed (${lost.outcome})`;
  if (timing.reissues.length > 0) return `reissued (${timing.reissues[0]!.outcome})`;
  const parts = { queued: timing.waitMs, computing: timing.serviceMs, verifying: timing.afterMs };
  return Object.entries(parts).sort((a, b) => b[1] - a[1])[0]![0];
}

export function latencyBreakdown(jobs: readonly TimedJob[], killList: readonly Kill[]): LatencyBreakdown {
  const kills = new Map(killList.map((k) => [k.peerId, k.atMs]));
  const sorted = [...jobs].sort((a, b) => a.latencyMs - b.latencyMs);
  const tailFromMs = sorted.length > 0 ? sorted[Math.floor(sorted.length * 0.95)]!.latencyMs : 0;
  const tail: TailJob[] = [];
  const tailCauses: Record<string, number> = {};
  const hit: number[] = [];
  const other: number[] = [];
  const noticedMs = new Map<string, number[]>();
  for (const job of sorted) {
    const lost = job.timing ? killedLease(job.timing, kills) : null;
    (lost ? hit : other).push(job.latencyMs);
    if (lost) {
      const list = noticedMs.get(lost.outcome) ?? [];
      list.push(lost.atMs - kills.get(lost.volunteerId)!);
      noticedMs.set(lost.outcome, list);
    }
    if (job.latencyMs < tailFromMs) continue;
    const cause = causeOf(job.timing, lost);
    tailCauses[cause] = (tailCauses[cause] ?? 0) + 1;
    tail.push({
      latencyMs: Math.round(job.latencyMs),
      cause,
      waitMs: Math.round(job.timing?.waitMs ?? 0),
      serviceMs: Math.round(job.timing?.serviceMs ?? 0),
      afterMs: Math.round(job.timing?.afterMs ?? 0),
      noticedAfterKillMs: lost ? Math.round(lost.atMs - kills.get(lost.volunteerId)!) : null,
      lost: (job.timing?.reissues ?? []).map(
        (r) =>
          `${r.outcome} at +${Math.round(r.atMs - job.timing!.submitMs)} ms (${r.volunteerId.slice(0, 10)}${kills.has(r.volunteerId) ? ", killed" : ""}): ${r.detail}`,
      ),
    });
  }
  const p50 = (v: number[]) => (v.length > 0 ? Math.round(median(v)!) : null);
  return {
    tailFromMs: Math.round(tailFromMs),
    tail,
    tailCauses,
    jobsHitByKills: hit.length,
    hitLatencyMsP50: p50(hit),
    otherLatencyMsP50: p50(other),
    noticed: Object.fromEntries(
      [...noticedMs].map(([outcome, v]) => [
        outcome,
        { count: v.length, p50Ms: p50(v), maxMs: Math.round(Math.max(...v)) },
      ]),
    ),
  };
}
