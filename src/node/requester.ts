import { BlobCache } from "../core/base/blob-cache.ts";
import { meshJobLink } from "../core/jobs/job-link.ts";
import type { JobStore } from "../core/jobs/job-store.ts";
import type { SolveJob } from "../core/jobs/model.ts";
import { RequesterRuntime, swarmVolunteers, volunteerRecruiter } from "../core/jobs/requester/index.ts";
import type { IdentityStore } from "../core/identity/keystore.ts";
import type { Swarm } from "../core/net/swarm.ts";
import { startNodeSwarm } from "./node-swarm.ts";

export interface NodeRequesterOptions {
  readonly server: string;
  readonly identityStore: IdentityStore;
  readonly store: JobStore;
  readonly onChange?: () => void;
  readonly onError?: (message: string) => void;
}

/**
 * A headless requester: the Dashboard's RequesterRuntime (same placement, verification with the
 * requester's own residual, reputation) on a Node swarm, with a file-backed store. It volunteers for
 * nobody, itself included: its units go to the swarm's volunteers.
 */
export class NodeRequester {
  private constructor(
    readonly swarm: Swarm,
    readonly runtime: RequesterRuntime,
  ) {}

  static async start(options: NodeRequesterOptions): Promise<NodeRequester> {
    const swarm = await startNodeSwarm({ server: options.server, identityStore: options.identityStore });
    try {
      const recruiter = volunteerRecruiter(swarm);
      let runtime: RequesterRuntime | null = null;
      runtime = await RequesterRuntime.start({
        link: meshJobLink(swarm.mesh),
        repo: options.store,
        cache: new BlobCache(),
        volunteers: () => {
          // The overlay, as in a tab: while a job runs, volunteers from a directory query are dialed.
          recruiter.update(runtime?.jobs().some((job) => job.status === "running") ?? false);
          return swarmVolunteers(swarm, false);
        },
        ...(options.onChange ? { onChange: options.onChange } : {}),
        ...(options.onError ? { onError: options.onError } : {}),
      });
      return new NodeRequester(swarm, runtime);
    } catch (error) {
      swarm.close();
      throw error;
    }
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
