import type { UnitRequirements, VolunteerCapabilities } from "../model.ts";

/**
 * What the scheduler keeps per volunteer: its announced capabilities, whether it is connected, the units
 * it holds, and how fast it has actually been. Speed is what the requester measured on verified results
 * (an EWMA of flops per ms), not what the volunteer claims; until the first
 * verified result the announced benchmark stands in as a prior, capped (advertisedSpeedCap) so that a
 * volunteer announcing a huge benchmark cannot draw the work to itself.
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

/** The announced benchmark as a speed prior (1 MFLOP/s = 1000 flops/ms). */
function priorFlopsPerMs(v: VolunteerState): number {
  return Math.max(1, v.capabilities.benchmarkMflops) * 1000 * PRIOR_EFFICIENCY;
}

/**
 * flops per ms: measured when known, else the benchmark prior, but never more than `capFlopsPerMs`
 * (advertisedSpeedCap): what a volunteer says about itself is not evidence.
 */
export function speedFlopsPerMs(v: VolunteerState, capFlopsPerMs = Infinity): number {
  return v.measuredFlopsPerMs ?? Math.min(priorFlopsPerMs(v), capFlopsPerMs);
}

function median(values: number[]): number {
  const s = [...values].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The most an advertised speed may count for, as BOINC caps claimed flops: `factor` × the median of the
 * speeds the requester measured itself (verified results only). Before any measurement, `factor` × the
 * median prior of the volunteers present, so a few huge claims cannot drag the cap up with them.
 */
export function advertisedSpeedCap(volunteers: readonly VolunteerState[], factor: number): number {
  const measured = volunteers.flatMap((v) => (v.measuredFlopsPerMs === null ? [] : [v.measuredFlopsPerMs]));
  if (measured.length > 0) return factor * median(measured);
  if (volunteers.length === 0) return Infinity;
  return factor * median(volunteers.map(priorFlopsPerMs));
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
export function estimatedFinishMs(v: VolunteerState, costFlops: number, capFlopsPerMs = Infinity): number {
  return (v.queuedFlops + costFlops) / speedFlopsPerMs(v, capFlopsPerMs);
}
