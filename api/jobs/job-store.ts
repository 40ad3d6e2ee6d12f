import type { ServerMetrics } from "../../signaling/metrics.ts";
import { ApiError } from "../errors.ts";
import type { Job } from "./job.ts";
import type { JobSettings } from "./job-config.ts";

/**
 * The jobs held now, by id (32 random bytes: knowing one is what lets a caller ask, and only its owner or
 * an admin gets an answer). A finished job stays `ttlMs` for status and results, then the sweep removes
 * it. `admit` enforces the per-owner and total caps before a job is created.
 */
export class JobStore {
  readonly #jobs = new Map<string, Job>();
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly settings: JobSettings,
    private readonly metrics: ServerMetrics,
  ) {
    this.#sweeper = setInterval(() => this.sweep(Date.now()), Math.min(settings.ttlMs, 30_000));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#jobs.size;
  }

  /** Throws 429 too_many_jobs (this owner's cap) or 503 server_busy (the server's) unless one more fits. */
  admit(owner: string): void {
    if (this.#jobs.size >= this.settings.maxJobs) {
      throw new ApiError(503, "server_busy", `the server holds ${this.#jobs.size} jobs, its limit`);
    }
    const held = this.list(owner).length;
    if (held >= this.settings.maxJobsPerOwner) {
      throw new ApiError(
        429,
        "too_many_jobs",
        `this key holds ${held} jobs (running, or finished and kept for ${this.settings.ttlMs} ms), its limit; DELETE finished ones or wait`,
      );
    }
  }

  add(job: Job): void {
    this.#jobs.set(job.id, job);
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  delete(id: string): void {
    this.#jobs.delete(id);
  }

  /** The jobs of `owner` (every job with null), oldest first. */
  list(owner: string | null): Job[] {
    return [...this.#jobs.values()].filter((job) => owner === null || job.owner === owner);
  }

  /** Removes finished jobs older than the TTL; returns how many. */
  sweep(nowMs: number): number {
    let removed = 0;
    for (const [id, job] of this.#jobs) {
      if (job.finishedAtMs !== null && nowMs - job.finishedAtMs >= this.settings.ttlMs) {
        this.#jobs.delete(id);
        this.metrics.api.jobsExpired++;
        removed++;
      }
    }
    return removed;
  }

  close(): Job[] {
    clearInterval(this.#sweeper);
    const all = [...this.#jobs.values()];
    this.#jobs.clear();
    return all;
  }
}
