import type { Checkpoint } from "../../distributed/index.ts";
import type { JobStore } from "../job-store.ts";

/**
 * The coordinator's last committed checkpoint of a distributed solve, persisted so a requester reload
 * resumes the solve from it instead of from zero. Kept in the job repository's blob table under
 * "dist-checkpoint/<jobId>" (like job-meta.ts: a key that cannot collide with a SHA-256, so no schema
 * change; deleteJob removes it). Binary, since x is n doubles: [format, iteration, n, x_0 … x_{n−1}].
 * Only the latest one matters: while a write is in flight newer checkpoints replace the queued one.
 */

const FORMAT = 1;
const HEADER = 3;

const keyOf = (jobId: string): string => `dist-checkpoint/${jobId}`;

function encode(cp: Checkpoint): Uint8Array {
  const out = new Float64Array(HEADER + cp.x.length);
  out[0] = FORMAT;
  out[1] = cp.iteration;
  out[2] = cp.x.length;
  out.set(cp.x, HEADER);
  return new Uint8Array(out.buffer);
}

/** The job's persisted checkpoint for a system of `rows` unknowns, or null (none, or not one we wrote). */
export async function loadDistCheckpoint(
  repo: JobStore,
  jobId: string,
  rows: number,
): Promise<Checkpoint | null> {
  const bytes = await repo.getBlob(keyOf(jobId));
  if (bytes === undefined || bytes.byteLength !== (HEADER + rows) * 8) return null;
  // Copied: the stored bytes need not be 8-byte aligned.
  const all = new Float64Array(bytes.slice().buffer);
  const iteration = all[1]!;
  if (all[0] !== FORMAT || all[2] !== rows || !Number.isInteger(iteration) || iteration < 1) return null;
  const x = all.slice(HEADER);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return null;
  return { iteration, x };
}

/** Writes a job's checkpoints in order, at most one at a time, skipping those a newer one overtook. */
export class CheckpointWriter {
  readonly #repo: JobStore;
  readonly #jobId: string;
  readonly #now: () => number;
  readonly #onSaved: (iteration: number) => void;
  readonly #onError: (error: unknown) => void;
  #queued: Checkpoint | null = null;
  #writing = false;
  #stopped = false;

  constructor(o: {
    repo: JobStore;
    jobId: string;
    now: () => number;
    onSaved: (iteration: number) => void;
    onError: (error: unknown) => void;
  }) {
    this.#repo = o.repo;
    this.#jobId = o.jobId;
    this.#now = o.now;
    this.#onSaved = o.onSaved;
    this.#onError = o.onError;
  }

  save(cp: Checkpoint): void {
    if (this.#stopped) return;
    this.#queued = cp;
    if (!this.#writing) void this.#drain();
  }

  /** The solve ended: nothing more is written (a write in flight still completes). */
  stop(): void {
    this.#stopped = true;
    this.#queued = null;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queued !== null) {
        const cp = this.#queued;
        this.#queued = null;
        await this.#repo.putBlob(keyOf(this.#jobId), encode(cp), this.#now());
        this.#onSaved(cp.iteration);
      }
    } catch (error) {
      // The solve goes on; a reload would resume from an older checkpoint (or from zero).
      this.#onError(error);
    } finally {
      this.#writing = false;
    }
  }
}
