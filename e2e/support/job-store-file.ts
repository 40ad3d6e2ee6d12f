import { readFileSync } from "node:fs";
import path from "node:path";
import type { SolveJob, WorkUnit } from "../../src/core/jobs/model.ts";

/**
 * Reads what `open-swarm submit` persisted in its --store directory (src/node/file-job-store.ts), as a test
 * sees it from outside the process: state.json (jobs and units) and the distributed checkpoint blob.
 * Files are replaced by rename, so a read sees a whole old or a whole new file; a missing one reads empty.
 */
export function storedUnits(store: string, jobId: string): WorkUnit[] {
  try {
    const state = JSON.parse(readFileSync(path.join(store, "state.json"), "utf8")) as {
      units: Record<string, WorkUnit>;
    };
    return Object.values(state.units)
      .filter((u) => u.jobId === jobId)
      .sort((p, q) => p.index - q.index);
  } catch {
    return [];
  }
}

/** The jobs in the store, by id (none when nothing was ever written). */
export function storedJobs(store: string): Record<string, SolveJob> {
  try {
    return (
      JSON.parse(readFileSync(path.join(store, "state.json"), "utf8")) as { jobs: Record<string, SolveJob> }
    ).jobs;
  } catch {
    return {};
  }
}

/** The iteration of the job's persisted distributed checkpoint (jobs/distributed/checkpoint-blob.ts); 0: none. */
export function storedCheckpointIteration(store: string, jobId: string): number {
  try {
    const bytes = readFileSync(path.join(store, "blobs", encodeURIComponent(`dist-checkpoint/${jobId}`)));
    // [format, iteration, n, x…] as f64; copied since the file's bytes need not be aligned.
    return new Float64Array(new Uint8Array(bytes).buffer.slice(0, 24))[1] ?? 0;
  } catch {
    return 0;
  }
}
