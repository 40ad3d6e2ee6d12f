import type { UnitRequirements, VolunteerCapabilities } from "../model.ts";

/**
 * What the scheduler keeps per volunteer: its announced capabilities, whether it is connected, the units
 * it holds, and how fast it has actually been. Speed is what the requester measured on verified results
 * (an EWMA of flops per ms), not what the volunteer claims; until the first
 * verified result the announced benchmark stands in as a prior.
 */
export interface VolunteerState {
  readonly peerId: string;
  capabilities: VolunteerCapabilities;
  connected: boolean;
  /** EWMA of verified throughput in flops/ms, null until measured. */
  measuredFlopsPerMs: number | null;
  readonly inFlight: Set<string>;
  /** Sum of costFlops of the units in flight (for the earliest-finish estimate). */
  queuedFlops: number;
  /** After a decline, no new unit before this time. */
  backoffUntilMs: number;
  /** When its last result arrived: a unit queued behind another starts computing about then. */
  lastResultAtMs: number;
}

/**
 * The announced benchmark is a bare SpMV rate; a whole solve (vector updates, reductions, transfers) runs
 * slower, and self-reports are optimistic: assume half.
 */
const PRIOR_EFFICIENCY = 0.5;

export function newVolunteerState(peerId: string, capabilities: VolunteerCapabilities): VolunteerState {
  return {
    peerId,
    capabilities,
    connected: true,
    measuredFlopsPerMs: null,
    inFlight: new Set(),
    queuedFlops: 0,
    backoffUntilMs: 0,
    lastResultAtMs: 0,
  };
}

/** flops per ms: measured when known, else the benchmark prior (1 MFLOP/s = 1000 flops/ms). */
export function speedFlopsPerMs(v: VolunteerState): number {
  return v.measuredFlopsPerMs ?? Math.max(1, v.capabilities.benchmarkMflops) * 1000 * PRIOR_EFFICIENCY;
}

export function updateSpeed(v: VolunteerState, workFlops: number, elapsedMs: number, alpha: number): void {
  if (!(workFlops > 0)) return;
  const observed = workFlops / Math.max(1, elapsedMs);
  v.measuredFlopsPerMs =
    v.measuredFlopsPerMs === null ? observed : alpha * observed + (1 - alpha) * v.measuredFlopsPerMs;
}

export function meetsRequirements(caps: VolunteerCapabilities, req: UnitRequirements): boolean {
  if (req.backend === "webgpu" && !caps.webgpu) return false;
  return caps.memoryBytes >= req.memoryBytes;
}

/** When this volunteer would finish `costFlops` more work, queued behind what it already holds. */
export function estimatedFinishMs(v: VolunteerState, costFlops: number): number {
  return (v.queuedFlops + costFlops) / speedFlopsPerMs(v);
}
