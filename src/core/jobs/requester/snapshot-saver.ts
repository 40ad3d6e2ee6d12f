import type { JobStore } from "../job-store.ts";
import type { SolveJob, WorkUnit } from "../model.ts";
import { saveJobMeta } from "./job-meta.ts";
import type { RequesterView } from "./view.ts";
import { saveViewSnapshot } from "./view-snapshot.ts";

/** A running job's view snapshot (chart, claims) is saved at most this often; a finished one at once. */
const SNAPSHOT_EVERY_MS = 5_000;

export interface SnapshotSaverContext {
  readonly repo: JobStore;
  readonly view: RequesterView;
  readonly now: () => number;
  readonly units: (jobId: string) => WorkUnit[];
  readonly nameOf: (jobId: string) => string;
  readonly rhsSeed: (jobId: string) => number | undefined;
  readonly onError?: (message: string) => void;
}

/**
 * Saves what a job's page shows beyond the scheduler's state (view-snapshot.ts): every few seconds while
 * it runs, and when it ends, with its worst certificate in its meta so the list shows it after a reload
 * without loading the units. A delete waits for the saves in flight, so none writes after it.
 */
export class SnapshotSaver {
  readonly #ctx: SnapshotSaverContext;
  /** When each running job's view snapshot was last saved. */
  readonly #savedAtMs = new Map<string, number>();
  /** Saves in flight, by job. */
  readonly #saves = new Map<string, Promise<void>>();

  constructor(ctx: SnapshotSaverContext) {
    this.#ctx = ctx;
  }

  /** A job starts running in this session (submitted or resumed): its first save is due in a while. */
  started(jobId: string): void {
    this.#savedAtMs.set(jobId, this.#ctx.now());
  }

  /** Saves the running jobs whose last save is old enough. */
  saveDue(jobs: readonly SolveJob[]): void {
    for (const job of jobs) {
      const at = this.#savedAtMs.get(job.id);
      if (job.status === "running" && at !== undefined && this.#ctx.now() - at >= SNAPSHOT_EVERY_MS)
        this.#track(job.id, this.#save(job.id, false));
    }
  }

  finished(jobId: string): void {
    this.#track(jobId, this.#save(jobId, true));
  }

  /** Waits for the job's save in flight and stops saving it. */
  async forget(jobId: string): Promise<void> {
    await this.#saves.get(jobId);
    this.#savedAtMs.delete(jobId);
  }

  #track(jobId: string, save: Promise<void>): void {
    this.#saves.set(jobId, save);
    void save.finally(() => {
      if (this.#saves.get(jobId) === save) this.#saves.delete(jobId);
    });
  }

  async #save(jobId: string, finished: boolean): Promise<void> {
    const { repo, view } = this.#ctx;
    const nowMs = this.#ctx.now();
    this.#savedAtMs.set(jobId, nowMs);
    if (finished) this.#savedAtMs.delete(jobId);
    const units = this.#ctx.units(jobId);
    try {
      await saveViewSnapshot(
        repo,
        view,
        jobId,
        units.map((u) => u.id),
        nowMs,
      );
      if (!finished) return;
      let worst: number | null = null;
      for (const u of units) {
        const r = u.status === "done" ? view.unitResidual(u.id) : null;
        if (r !== null) worst = worst === null ? r : Math.max(worst, r);
      }
      if (worst === null) return;
      view.setSavedWorstResidual(jobId, worst);
      const rhsSeed = this.#ctx.rhsSeed(jobId);
      const meta = { name: this.#ctx.nameOf(jobId).slice(0, 200), worstRelResidual: worst };
      await saveJobMeta(repo, jobId, rhsSeed === undefined ? meta : { ...meta, rhsSeed }, nowMs);
    } catch (error) {
      this.#ctx.onError?.(`saving the view of job ${jobId} failed: ${String(error)}`);
    }
  }
}
