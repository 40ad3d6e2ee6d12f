/**
 * bench:scale, second half: 20 Node volunteers and 200 small solve jobs from Node requesters while a fifth
 * of the volunteers are killed at random. The phase itself is bench/scale/node-jobs.ts; this file is its
 * slot and its figures' shape (a phase that cannot run reports every figure null with the reason).
 */
import type { LatencyBreakdown } from "./latency-breakdown.ts";
import { runNodeJobsPhase } from "./node-jobs.ts";

export interface JobsFigures {
  node_volunteers: number | null;
  jobs_total: number | null;
  jobs_completed: number | null;
  wrong_results_accepted: number | null;
  job_latency_ms_p50: number | null;
  job_latency_ms_p99: number | null;
  coordination_ms_per_unit: number | null;
  /** Where the slow jobs' time went (latency-breakdown.ts). */
  job_latency_breakdown: LatencyBreakdown | null;
}

export interface JobsPhaseContext {
  /** The repository to run the server and the Node peers from. */
  readonly repoDir: string;
  /** Smaller runs (a diagnosis): volunteers wanted, requester processes, jobs each. Defaults 20, 4, 50. */
  readonly volunteers?: number;
  readonly requesters?: number;
  readonly jobsPerRequester?: number;
}

/** Runs the phase (starting its own server) and returns its figures. */
export type JobsPhase = (context: JobsPhaseContext) => Promise<JobsFigures>;

/** The slot: the Node volunteers and requesters of issue 12 item 1. */
const jobsPhase: JobsPhase | null = runNodeJobsPhase;

export const JOBS_NOT_MEASURED =
  "Node volunteers and requesters (issue 12 item 1) are not on this branch; plug a JobsPhase into bench/scale/jobs-phase.ts";

export async function runJobsPhase(
  context: JobsPhaseContext,
): Promise<{ figures: JobsFigures; notMeasured: string | null }> {
  if (jobsPhase === null) {
    return {
      figures: {
        node_volunteers: null,
        jobs_total: null,
        jobs_completed: null,
        wrong_results_accepted: null,
        job_latency_ms_p50: null,
        job_latency_ms_p99: null,
        coordination_ms_per_unit: null,
        job_latency_breakdown: null,
      },
      notMeasured: JOBS_NOT_MEASURED,
    };
  }
  return { figures: await jobsPhase(context), notMeasured: null };
}
