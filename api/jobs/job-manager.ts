import type { Logger } from "pino";
import type { ServerMetrics } from "../../signaling/metrics.ts";
import { randomToken } from "../../signaling/random-token.ts";
import type { ApiConfig } from "../config.ts";
import { ApiError } from "../errors.ts";
import type { ServerSwarm } from "../swarm-requester.ts";
import type { ExpertJobs } from "./expert-jobs.ts";
import { runExpertJob } from "./expert-job.ts";
import { Job } from "./job.ts";
import type { ClassifyJobBody, OnnxJobBody, SolveJobBody } from "./job-schemas.ts";
import { JobStore } from "./job-store.ts";
import type { RunOnThreads } from "./server-solve.ts";
import { solveJobInput } from "./solve-input.ts";
import { runSolveJob } from "./solve-job.ts";

export interface JobManagerDeps {
  readonly config: ApiConfig;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly swarm: ServerSwarm | null;
  readonly runOnThreads: RunOnThreads;
  readonly experts: ExpertJobs | undefined;
  /** The server is draining (SIGTERM): no new job. */
  readonly draining: () => boolean;
}

/**
 * Starts jobs (solve on the swarm or the server, classify and onnx on the experts), cancels them and keeps
 * the store and the metrics true: every job is counted once by how it ended.
 */
export class JobManager {
  readonly store: JobStore;
  /** Each running job's end. */
  readonly #ends = new Map<string, Promise<void>>();

  constructor(private readonly deps: JobManagerDeps) {
    this.store = new JobStore(deps.config.jobs, deps.metrics);
  }

  get experts(): ExpertJobs | undefined {
    return this.deps.experts;
  }

  /** A solve job for `owner`; `origin`: where the server answers its own requester (null: no swarm). */
  startSolve(body: SolveJobBody, owner: string, origin: string | null): Job {
    const { config } = this.deps;
    this.#admit(owner);
    const input = solveJobInput(body, config, config.jobs.maxResultValues);
    const job = new Job(randomToken(), owner, "solve", "units");
    const swarm =
      this.deps.swarm !== null && origin !== null
        ? {
            swarm: this.deps.swarm,
            settings: config.swarm,
            origin,
            linkWaitMs: config.jobs.linkWaitMs,
            timeLimitMs: config.maxSolveMs,
          }
        : null;
    const deps = { swarm, runOnThreads: this.deps.runOnThreads, timeLimitMs: config.maxSolveMs };
    return this.#run(job, () => runSolveJob(job, input, { ...deps, metrics: this.deps.metrics }));
  }

  /** A classify or onnx job for `owner` (the caller checked that the server has experts). */
  startExpert(body: ClassifyJobBody | OnnxJobBody, owner: string, experts: ExpertJobs): Job {
    this.#admit(owner);
    const job = new Job(randomToken(), owner, body.kind, "rows");
    return this.#run(job, () => runExpertJob(job, body, experts));
  }

  /** Cancels a running job; resolves once it has ended (status cancelled, or done if it won the race). */
  cancel(job: Job): Promise<void> {
    job.abort.abort(new ApiError(409, "cancelled", "the job was cancelled"));
    return this.#ends.get(job.id) ?? Promise.resolve();
  }

  async close(): Promise<void> {
    const running = this.store.close().filter((job) => !job.finished);
    await Promise.all(running.map((job) => this.cancel(job)));
  }

  #admit(owner: string): void {
    if (this.deps.draining()) {
      throw new ApiError(
        503,
        "draining",
        "the server is shutting down and takes no new jobs; retry on another",
      );
    }
    this.store.admit(owner);
  }

  #run(job: Job, run: () => Promise<void>): Job {
    const { metrics, logger } = this.deps;
    this.store.add(job);
    metrics.api.jobsStarted++;
    const end = run()
      .catch((error: unknown) => {
        logger.error({ event: "api_job_error", job: job.id.slice(0, 8), error: String(error) });
        job.finish("failed", null, Object.assign(new Error(String(error)), { code: "internal_error" }));
      })
      .finally(() => {
        this.#ends.delete(job.id);
        if (job.status === "done") metrics.api.jobsDone++;
        else if (job.status === "cancelled") metrics.api.jobsCancelled++;
        else metrics.api.jobsFailed++;
        logger.info({ event: "api_job_ended", job: job.id.slice(0, 8), kind: job.kind, status: job.status });
      });
    this.#ends.set(job.id, end);
    logger.info({ event: "api_job_started", job: job.id.slice(0, 8), kind: job.kind });
    return job;
  }
}
