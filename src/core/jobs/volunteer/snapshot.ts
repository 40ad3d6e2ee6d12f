import type { UnitLogEntry } from "./unit-log.ts";

/** What a volunteer runtime shows the page (runtime.ts builds it; the Contribute view renders it). */
export type VolunteerRunStatus = "idle" | "computing" | "paused";

export interface VolunteerSnapshot {
  readonly status: VolunteerRunStatus;
  readonly current: {
    readonly unitId: string;
    readonly jobId: string;
    readonly requesterId: string;
    readonly progress: number;
    readonly iteration: number | null;
    readonly residual: number | null;
    readonly backend: string | null;
  } | null;
  readonly unitsDone: number;
  readonly requestersServed: readonly string[];
  readonly cpuShare: number;
  readonly pauseWhenHidden: boolean;
  /** unit-result messages sent, per unit id (tests check that verified units are not recomputed). */
  readonly resultsSent: Readonly<Record<string, number>>;
  /** Why it is paused (the person's Pause first), or null when it is not. */
  readonly pauseReason: "user" | "hidden" | "battery" | null;
  readonly pauseOnBattery: boolean;
  /** The machine runs on battery, as the page last said (false where the page cannot tell). */
  readonly onBattery: boolean;
  /** Units and blocks that ended here, newest first (bounded, unit-log.ts). */
  readonly log: readonly UnitLogEntry[];
  /** Verdicts received that matched nothing this tab sent to that requester (counted, then dropped). */
  readonly verdictsIgnored: number;
  /** Fraction of the wall time spent computing over the last minute (busy-meter.ts). */
  readonly busyFraction: number;
}
