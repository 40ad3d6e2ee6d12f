import type { ApiUnitOutcome, ServerMetrics } from "../signaling/metrics.ts";
import type { ServerSwarm } from "./swarm-requester.ts";

/**
 * The scheduler's attempt ends (core jobs/model.ts AttemptOutcome, and "verified") as the fixed outcome
 * labels of /metrics (signaling/metrics.ts API_UNIT_OUTCOMES). A unit taken from a volunteer banned
 * for another wrong result, or by a requester restart or a cancel, was not judged: "cancelled".
 */
const OUTCOME_OF: Readonly<Record<string, ApiUnitOutcome>> = {
  verified: "verified",
  "invalid-result": "rejected",
  "deadline-expired": "timed_out",
  "heartbeat-timeout": "timed_out",
  disconnected: "disconnected",
  "volunteer-error": "volunteer_error",
  "not-converged": "not_converged",
  declined: "declined",
  "volunteer-banned": "cancelled",
  "requester-restarted": "cancelled",
  "job-cancelled": "cancelled",
};

/** Units the API's requester sent, by outcome, and the sessions it took back to the server's threads. */
export function unitOutcomes(
  swarm: ServerSwarm | null,
  api: ServerMetrics["api"],
): Partial<Record<ApiUnitOutcome, number>> {
  const counts: Partial<Record<ApiUnitOutcome, number>> = {
    recomputed_on_server: api.swarmFallbacks,
  };
  for (const [end, n] of Object.entries(swarm?.attemptEnds() ?? {})) {
    // An end this table does not know yet (a new AttemptOutcome) still shows, as cancelled, not lost.
    const outcome = OUTCOME_OF[end] ?? "cancelled";
    counts[outcome] = (counts[outcome] ?? 0) + n;
  }
  return counts;
}
