import { HostFault } from "../core/experts/host/faults.ts";
import { FaultInjection } from "../core/jobs/volunteer/fault-injection.ts";

/**
 * TEST ONLY, loaded lazily by test-mode.ts: the faults the page URL asks for, each created (or refused,
 * outside ?test=1) when the runtime it goes into starts. The fakes are imported by path, not through their
 * folder's index: they are no part of its API, and through the index the bundler would split the modules
 * it shares with the main bundle into extra chunks every page then loads.
 */

/** `?fault=perturb` (fault-injection.ts): this tab's volunteer returns wrong results. */
export function volunteerFaultFrom(params: URLSearchParams, testMode: boolean): FaultInjection | null {
  const mode = params.get("fault");
  if (mode === null) return null;
  const fault = FaultInjection.create(mode, testMode);
  console.warn(`FaultInjection "${fault.mode}" is on: this tab returns wrong results`);
  return fault;
}

/** `?xp-fault=perturb|silent|die-mid-batch[&xp-fault-after=N]` (faults.ts): this tab's expert host misbehaves. */
export function hostFaultFrom(params: URLSearchParams, testMode: boolean): HostFault | null {
  const mode = params.get("xp-fault");
  if (mode === null) return null;
  const after = Number(params.get("xp-fault-after") ?? "NaN");
  const fault = HostFault.create(
    mode,
    testMode,
    Number.isInteger(after) && after >= 0 ? { afterRequests: after } : {},
  );
  console.warn(`HostFault "${fault.mode}" is on: this tab's expert host misbehaves`);
  return fault;
}
