import { JobError } from "../../protocol/job-errors.ts";
import type { SchedulerOptions } from "./types.ts";

/** SchedulerOptions with every default filled in and every bound checked once, at construction. */
export interface SchedulerConfig {
  readonly now: () => number;
  readonly random: () => number;
  readonly maxAttempts: number;
  /** K: units in flight per volunteer. */
  readonly k: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly minLeaseMs: number;
  readonly maxLeaseMs: number;
  readonly leaseSlack: number;
  readonly notConvergedQuorum: number;
  readonly selfId: string | null;
  readonly advertisedSpeedCap: number;
  readonly declineBackoffMs: number;
  /** Weight of the newest observation in the speed EWMA. */
  readonly alpha: number;
}

export function resolveConfig(options: SchedulerOptions): SchedulerConfig {
  const config: SchedulerConfig = {
    now: options.nowMs,
    random: options.random,
    maxAttempts: positiveInt("maxAttempts", options.maxAttempts ?? 5),
    k: positiveInt("maxInFlightPerVolunteer", options.maxInFlightPerVolunteer ?? 2),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 2_000,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 10_000,
    minLeaseMs: options.minLeaseMs ?? 60_000,
    maxLeaseMs: options.maxLeaseMs ?? 30 * 60_000,
    leaseSlack: options.leaseSlack ?? 2,
    notConvergedQuorum: positiveInt("notConvergedQuorum", options.notConvergedQuorum ?? 2),
    selfId: options.selfId ?? null,
    advertisedSpeedCap: options.advertisedSpeedCap ?? 2,
    declineBackoffMs: options.declineBackoffMs ?? 5_000,
    alpha: options.speedEwmaAlpha ?? 0.3,
  };
  if (!(config.heartbeatTimeoutMs > config.heartbeatIntervalMs)) {
    throw new JobError("invalid_spec", "heartbeatTimeoutMs must exceed heartbeatIntervalMs");
  }
  if (!(config.advertisedSpeedCap >= 1)) {
    throw new JobError("invalid_spec", "advertisedSpeedCap must be at least 1");
  }
  if (!(config.minLeaseMs > 0 && config.maxLeaseMs >= config.minLeaseMs)) {
    throw new JobError("invalid_spec", "lease bounds must satisfy 0 < minLeaseMs ≤ maxLeaseMs");
  }
  return config;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new JobError("invalid_spec", `${name} must be a positive integer`);
  return v;
}
