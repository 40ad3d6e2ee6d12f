import type { JobStore } from "../job-store.ts";
import type { SolveJob, WorkUnit } from "../model.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { loadJobMeta } from "./job-meta.ts";
import type { RequesterView } from "./view.ts";

/** Finished jobs of earlier sessions loaded at start (the newest). */
const HISTORY_JOBS = 50;

/**
 * The jobs a requester knows beyond its scheduler: earlier sessions' finished jobs (and their units once a
 * view asks), and every job's name and random-rhs seed (job-meta.ts). The scheduler holds this session's
 * and the running jobs; `find` looks in both.
 */
export class JobCatalog {
  readonly #scheduler: Scheduler;
  readonly #names = new Map<string, string>();
  /** Seeds of jobs whose right-hand sides are random (shown so b can be made again). */
  readonly #rhsSeeds = new Map<string, number>();
  #history: SolveJob[] = [];
  readonly #historyUnits = new Map<string, WorkUnit[]>();

  constructor(scheduler: Scheduler) {
    this.#scheduler = scheduler;
  }

  /** Loads the history and the names and seeds of `running` and of the history. */
  async load(repo: JobStore, view: RequesterView, running: readonly SolveJob[]): Promise<void> {
    const all = await repo.listJobs(HISTORY_JOBS);
    this.#history = all.filter((j) => j.status !== "running" && this.#scheduler.job(j.id) === undefined);
    for (const job of [...running, ...this.#history]) {
      const meta = await loadJobMeta(repo, job.id);
      if (meta === null) continue;
      this.remember(job.id, meta.name, meta.rhsSeed);
      if (meta.worstRelResidual !== undefined) view.setSavedWorstResidual(job.id, meta.worstRelResidual);
    }
  }

  remember(jobId: string, name: string, rhsSeed: number | undefined): void {
    this.#names.set(jobId, name);
    if (rhsSeed !== undefined) this.#rhsSeeds.set(jobId, rhsSeed);
  }

  forget(jobId: string): void {
    this.#history = this.#history.filter((j) => j.id !== jobId);
    this.#historyUnits.delete(jobId);
    this.#names.delete(jobId);
    this.#rhsSeeds.delete(jobId);
  }

  find(jobId: string): SolveJob | undefined {
    return this.#scheduler.job(jobId) ?? this.#history.find((j) => j.id === jobId);
  }

  /** This session's and running jobs (scheduler), then earlier finished ones; newest first. */
  jobs(): SolveJob[] {
    const live = this.#scheduler.jobs();
    const ids = new Set(live.map((j) => j.id));
    return [...live, ...this.#history.filter((j) => !ids.has(j.id))].sort(
      (p, q) => q.createdAtMs - p.createdAtMs,
    );
  }

  nameOf(jobId: string): string {
    return this.#names.get(jobId) ?? jobId;
  }

  rhsSeed(jobId: string): number | undefined {
    return this.#rhsSeeds.get(jobId);
  }

  units(jobId: string): WorkUnit[] {
    const live = this.#scheduler.unitsOf(jobId);
    return live.length > 0 ? live : (this.#historyUnits.get(jobId) ?? []);
  }

  setHistoryUnits(jobId: string, units: WorkUnit[]): void {
    this.#historyUnits.set(jobId, units);
  }
}
