import { BlobCache } from "../core/base/blob-cache.ts";
import { meshJobLink } from "../core/jobs/job-link.ts";
import type { JobStore } from "../core/jobs/job-store.ts";
import type { SolveJob } from "../core/jobs/model.ts";
import { RequesterRuntime, swarmVolunteers, volunteerRecruiter } from "../core/jobs/requester/index.ts";
import type { IdentityStore } from "../core/identity/keystore.ts";
import type { Recruiter } from "../core/net/recruiter.ts";
import type { Swarm } from "../core/net/swarm.ts";
import { startNodeSwarm } from "./node-swarm.ts";

export interface NodeRequesterOptions {
  readonly server: string;
  readonly identityStore: IdentityStore;
  readonly store: JobStore;
  /** Volunteers asked of the directory at once (default 16; a distributed solve over K blocks wants K). */
  readonly recruit?: number;
  readonly onChange?: () => void;
  readonly onError?: (message: string) => void;
}

/** How often awaitVolunteers looks at the links (and lets the recruiter query again). */
const RECRUIT_POLL_MS = 250;

/**
 * A headless requester: the Dashboard's RequesterRuntime (same placement, verification with the
 * requester's own residual, reputation) on a Node swarm, with a file-backed store. It volunteers for
 * nobody, itself included: its units go to the swarm's volunteers.
 */
export class NodeRequester {
  private constructor(
    readonly swarm: Swarm,
    readonly runtime: RequesterRuntime,
    private readonly recruiter: Recruiter,
    /** Recruiting before a job runs (awaitVolunteers): the runtime's ticks must not release the links. */
    private readonly gathering: { value: boolean },
  ) {}

  static async start(options: NodeRequesterOptions): Promise<NodeRequester> {
    const swarm = await startNodeSwarm({
      server: options.server,
      identityStore: options.identityStore,
      volunteer: false,
    });
    try {
      const recruiter = volunteerRecruiter(swarm, options.recruit);
      const gathering = { value: false };
      let runtime: RequesterRuntime | null = null;
      runtime = await RequesterRuntime.start({
        link: meshJobLink(swarm.mesh),
        repo: options.store,
        cache: new BlobCache(),
        volunteers: () => {
          // The overlay, as in a tab: while a job runs, volunteers from a directory query are dialed.
          const running = runtime?.jobs().some((job) => job.status === "running") ?? false;
          recruiter.update(gathering.value || running);
          return swarmVolunteers(swarm, false);
        },
        ...(options.onChange ? { onChange: options.onChange } : {}),
        ...(options.onError ? { onError: options.onError } : {}),
      });
      return new NodeRequester(swarm, runtime, recruiter, gathering);
    } catch (error) {
      swarm.close();
      throw error;
    }
  }

  /** Volunteers linked now (peers the directory lists, with an open link). */
  volunteerCount(): number {
    return swarmVolunteers(this.swarm, false).length;
  }

  /**
   * Recruits volunteers through the directory until `k` are linked or `timeoutMs` passed, and resolves
   * with how many are linked then. They stay wanted until the next job that runs ends (or `stopGathering`).
   * An aborted `signal` ends the wait at once (resolving with the count then).
   */
  awaitVolunteers(k: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    this.gathering.value = true;
    return new Promise((resolve) => {
      const deadline = performance.now() + timeoutMs;
      const check = (): void => {
        const linked = this.volunteerCount();
        if (linked >= k || performance.now() >= deadline || signal?.aborted === true) {
          signal?.removeEventListener("abort", check);
          clearInterval(timer);
          resolve(linked);
          return;
        }
        // Not enough yet: ask the directory again as soon as its rate limit allows (newcomers join).
        this.recruiter.queryNow();
        this.recruiter.update(true);
      };
      const timer = setInterval(check, RECRUIT_POLL_MS);
      signal?.addEventListener("abort", check);
      check();
    });
  }

  /** The links wanted by awaitVolunteers are released unless a job runs (then it keeps them). */
  stopGathering(): void {
    this.gathering.value = false;
    if (!this.runtime.jobs().some((job) => job.status === "running")) this.recruiter.update(false);
  }

  job(jobId: string): SolveJob | undefined {
    return this.runtime.jobs().find((j) => j.id === jobId);
  }

  /** Resolves with the job once it is no longer running (checked on every runtime change). */
  finished(jobId: string, onTick: (job: SolveJob | undefined) => void): Promise<SolveJob> {
    return new Promise((resolve) => {
      const check = (): void => {
        const job = this.job(jobId);
        onTick(job);
        if (job && job.status !== "running") {
          clearInterval(timer);
          resolve(job);
        }
      };
      // Runtime changes arrive through onChange too; a slow tick also covers a job with no change at all.
      const timer = setInterval(check, 250);
      check();
    });
  }

  async close(): Promise<void> {
    await this.runtime.flush();
    this.runtime.close();
    this.swarm.close();
  }
}
