import type { JobLink } from "../job-link.ts";
import { JOB_PROTOCOL_VERSION } from "../../protocol/jobs.ts";
import type { RequesterDistributedSolves } from "../distributed/index.ts";
import type { Scheduler, SchedulerAction } from "../scheduler/scheduler.ts";
import { assignBody } from "./assign-body.ts";
import type { BlobSender } from "./blob-sender.ts";

export interface AssignerContext {
  readonly scheduler: Scheduler;
  readonly link: JobLink;
  readonly blobs: BlobSender;
  readonly distributed: RequesterDistributedSolves;
  readonly kick: () => void;
  readonly onError?: (message: string) => void;
}

/** Inputs attached to an assignment, together at most (a larger matrix goes as a blob of its own). */
const ATTACH_MAX_BYTES = 256 * 1024;

/**
 * Carries out the scheduler's "assign" and "cancel" actions on the swarm: an assignment is a signed body
 * with the small input blobs the volunteer does not have yet, then the large ones (blob-sender.ts); a row block of a distributed
 * solve goes to jobs/distributed. An assignment that cannot be sent hands the unit back to the scheduler
 * as if the volunteer had disconnected.
 */
export class Assigner {
  readonly #ctx: AssignerContext;

  constructor(ctx: AssignerContext) {
    this.#ctx = ctx;
  }

  cancel(action: Extract<SchedulerAction, { type: "cancel" }>): void {
    this.#ctx.link
      .sendBody(action.volunteerId, {
        type: "unit-cancel",
        jv: JOB_PROTOCOL_VERSION,
        unitId: action.unitId,
        attempt: action.attempt,
        reason: action.reason,
      })
      .catch(() => undefined);
  }

  async assign(action: Extract<SchedulerAction, { type: "assign" }>): Promise<void> {
    const { scheduler, link, blobs } = this.#ctx;
    const { volunteerId, unitId, attempt } = action;
    try {
      const job = scheduler.job(action.jobId);
      const unit = scheduler.unit(unitId);
      if (job === undefined || unit === undefined) return;
      if (unit.task.kind === "row-block") {
        await this.#ctx.distributed.place(job, unit.task.block, unitId, attempt, volunteerId);
        return;
      }
      const body = assignBody(job, unit, action);
      const refs = [body.task.matrix, ...body.task.rhs];
      // Small inputs in the assignment's own message; the body before any large one, so the volunteer
      // starts heartbeating while the rest is on its way.
      await blobs.attach(volunteerId, refs, ATTACH_MAX_BYTES, (attached) =>
        link.sendBody(volunteerId, body, attached),
      );
      for (const ref of refs) await blobs.ensure(volunteerId, ref.sha256);
    } catch (error) {
      const unit = scheduler.unit(unitId);
      if (unit?.status === "leased" && unit.lease?.attempt === attempt) {
        this.#ctx.onError?.(`assigning ${unitId} to ${volunteerId.slice(0, 10)} failed: ${String(error)}`);
        blobs.forget(volunteerId);
        scheduler.onDisconnect(volunteerId);
        this.#ctx.kick();
      }
    }
  }
}
