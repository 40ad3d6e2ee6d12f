import type { JobStore } from "../job-store.ts";
import type { BlobCache } from "../../base/blob-cache.ts";
import type { JobBodyEvent } from "../job-link.ts";
import {
  JOB_PROTOCOL_VERSION,
  type UnitProgress,
  type UnitResultMessage,
  type UnitVerdict,
} from "../../protocol/jobs.ts";
import { decodeVector } from "../payload.ts";
import { residualLineOf, type RequesterView } from "./view.ts";
import { invalidVerdict, storedResultClaims, verifyRhsGroup, type VerifyContext } from "./verify.ts";
import type { ReverifyItem } from "../scheduler/resume.ts";
import type { WriteBehind } from "./write-behind.ts";
import type { Scheduler, VerificationVerdict } from "../scheduler/scheduler.ts";
import { solveCostFlops } from "../split.ts";

/** What the intake of volunteers' messages needs from the requester runtime. */
export interface IntakeContext {
  readonly scheduler: Scheduler;
  readonly verify: VerifyContext;
  readonly view: RequesterView;
  /** Where results of earlier sessions are read from. */
  readonly repo: JobStore;
  /** Where results and their verdicts are written (batched). */
  readonly writes: WriteBehind;
  /** Where solution blobs arrive. */
  readonly cache: BlobCache;
  readonly now: () => number;
  /** How long a result's solution blobs may take to arrive after its body. */
  readonly blobWaitMs: number;
  /** The volunteer may have lost the input blobs it was sent: send them again next time. */
  readonly forgetBlobs: (volunteerId: string) => void;
  /** Asks for a scheduler tick soon. */
  readonly kick: () => void;
  readonly onChange?: () => void;
  /** Tells a volunteer what the check of its result concluded (unit-verdict: display only for it). */
  readonly sendVerdict?: (to: string, body: UnitVerdict) => void;
}

/**
 * Volunteers' messages about their units (heartbeats, progress, errors, results) into the scheduler, and
 * every result through the requester's own verification: its solutions are waited for, stored unverified
 * (queued for the store: a reload after they are stored verifies them again instead of recomputing them),
 * checked, and the verdict handed to the scheduler; the volunteer hears the verdict once it is stored. Results left unverified by an earlier session are re-verified here too.
 */
export class RequesterResultIntake {
  readonly #ctx: IntakeContext;

  constructor(ctx: IntakeContext) {
    this.#ctx = ctx;
  }

  onBody(event: JobBodyEvent): void {
    const { scheduler } = this.#ctx;
    const { body, from } = event;
    switch (body.type) {
      case "unit-heartbeat":
        scheduler.onHeartbeat(body.unitId, body.attempt, from);
        break;
      case "unit-progress":
        if (scheduler.onHeartbeat(body.unitId, body.attempt, from) === "ok") this.#onProgress(body);
        break;
      case "unit-error":
        if (body.code !== "declined" && body.code !== "cancelled") this.#ctx.forgetBlobs(from);
        scheduler.onUnitError(body.unitId, body.attempt, from, body.code, body.detail);
        break;
      case "unit-result":
        void this.#onResult(from, body, event.envelope);
        break;
      default:
        return; // assignments and cancels are for the volunteer runtime
    }
    this.#ctx.kick();
  }

  /** Verifies again a result an earlier session stored but did not verify. */
  async reverify(item: ReverifyItem): Promise<void> {
    const { scheduler } = this.#ctx;
    const unit = scheduler.unit(item.unitId);
    const job = unit === undefined ? undefined : scheduler.job(unit.jobId);
    const row = await this.#ctx.repo.loadResult(item.unitId, item.attempt);
    if (job === undefined || row === undefined) return;
    let verdict: VerificationVerdict;
    try {
      // The stored row has no claims; an unverifiable stored result is simply invalid.
      const claims = storedResultClaims(row.xs.length);
      verdict = await verifyRhsGroup(this.#ctx.verify, job, item.unitId, row.xs, claims);
    } catch (error) {
      verdict = invalidVerdict(error);
    }
    this.#applyVerdict(item.unitId, item.attempt, verdict);
  }

  #onProgress(body: UnitProgress): void {
    const { view } = this.#ctx;
    view.setProgress(body.unitId, {
      attempt: body.attempt,
      rhsDone: body.rhsDone,
      rhsTotal: body.rhsTotal,
      iteration: body.iteration,
      relResidual: body.relResidual,
      backend: body.backend,
    });
    const unit = this.#ctx.scheduler.unit(body.unitId);
    const line = unit === undefined ? null : residualLineOf(unit, body.rhsDone);
    if (unit !== undefined && line !== null && body.relResidual !== null) {
      const point = { iteration: body.iteration, residual: body.relResidual };
      view.pushResidual(unit.jobId, line.key, line.label, body.attempt, point);
    }
    this.#ctx.onChange?.();
  }

  async #onResult(from: string, body: UnitResultMessage, envelope: string | null): Promise<void> {
    const { scheduler, cache } = this.#ctx;
    this.#ctx.view.countResult(body.unitId);
    const unit = scheduler.unit(body.unitId);
    const job = unit === undefined ? undefined : scheduler.job(unit.jobId);
    if (unit === undefined || job === undefined) return;
    const { rows, nnz } = job.spec.matrix;
    const workFlops = body.solutions.reduce(
      (sum, s) => sum + solveCostFlops(rows, nnz, Math.max(1, s.iterations), 1),
      0,
    );
    const verdict = scheduler.onResult(body.unitId, body.attempt, from, workFlops);
    if (verdict !== "accept-for-verification") return;
    const receivedAtMs = this.#ctx.now();
    let check: VerificationVerdict;
    let xs: Float64Array[] = [];
    try {
      const waitMs = this.#ctx.blobWaitMs;
      xs = await Promise.all(
        body.solutions.map(async (s) => decodeVector(await cache.waitFor(s.x.sha256, waitMs), rows)),
      );
      for (const s of body.solutions) cache.delete(s.x.sha256);
      // Queued before it is verified: if verifying outlasts a flush, a reload verifies it again.
      this.#ctx.writes.putResult({
        unitId: body.unitId,
        attempt: body.attempt,
        jobId: job.id,
        volunteerId: from,
        receivedAtMs,
        xs,
        relResiduals: null,
        verified: false,
        envelope,
      });
      check = await verifyRhsGroup(this.#ctx.verify, job, body.unitId, xs, body.solutions);
      if (check.ok) this.#ctx.view.setUnitClaims(body.unitId, claimsOf(body.solutions));
    } catch (error) {
      check = invalidVerdict(error);
    }
    this.#applyVerdict(body.unitId, body.attempt, check);
    // Told only once stored: a "verified" the requester could still lose in a crash would be a lie.
    await this.#ctx.writes.stored();
    this.#ctx.sendVerdict?.(from, {
      type: "unit-verdict",
      jv: JOB_PROTOCOL_VERSION,
      unitId: body.unitId,
      attempt: body.attempt,
      verdict: check.ok ? "verified" : check.code === "invalid" ? "rejected" : "not_converged",
    });
  }

  #applyVerdict(unitId: string, attempt: number, verdict: VerificationVerdict): void {
    if (this.#ctx.scheduler.onVerified(unitId, attempt, verdict) && verdict.ok) {
      this.#ctx.view.markRhsDone(unitId, "all");
    }
    this.#ctx.kick();
  }
}

/** The unit's final state as its result claims it: the most iterations and the worst own residual. */
function claimsOf(solutions: UnitResultMessage["solutions"]): {
  iterations: number;
  relResidual: number | null;
} {
  let iterations = 0;
  let relResidual: number | null = null;
  for (const s of solutions) {
    iterations = Math.max(iterations, s.iterations);
    if (s.relResidual !== null) relResidual = Math.max(relResidual ?? 0, s.relResidual);
  }
  return { iterations, relResidual };
}
