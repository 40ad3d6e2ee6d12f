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

/** `?xp-fault=perturb|silent|die-mid-batch|shade|collude[&xp-fault-after=N][&xp-fault-rows=F]` (faults.ts):
 *  this tab's expert host misbehaves (after N honest requests; on a fraction F of rows). */
export function hostFaultFrom(params: URLSearchParams, testMode: boolean): HostFault | null {
  const mode = params.get("xp-fault");
  if (mode === null) return null;
  const after = Number(params.get("xp-fault-after") ?? "NaN");
  const rows = Number(params.get("xp-fault-rows") ?? "NaN");
  const fault = HostFault.create(mode, testMode, {
    ...(Number.isInteger(after) && after >= 0 ? { afterRequests: after } : {}),
    ...(rows > 0 && rows <= 1 ? { rowFraction: rows } : {}),
  });
  console.warn(`HostFault "${fault.mode}" is on: this tab's expert host misbehaves`);
  return fault;
}

/** `?xp-claim=webgpu|wasm`: this tab's expert host announces that provider whatever it runs on (a lying
 *  client's false claim: the requester must not take its tolerance from it). */
export function hostClaimFrom(params: URLSearchParams, testMode: boolean): "webgpu" | "wasm" | null {
  const claim = params.get("xp-claim");
  if (claim === null) return null;
  if (!testMode) throw new Error("xp-claim is test-only: it needs the page's ?test=1 mode");
  if (claim !== "webgpu" && claim !== "wasm") throw new Error(`unknown xp-claim "${claim}" (webgpu, wasm)`);
  console.warn(`this tab's expert host falsely claims the "${claim}" provider`);
  return claim;
}
