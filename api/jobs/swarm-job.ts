import { relativeResidual } from "../../src/core/solver/certificate.ts";
import type { WorkUnit } from "../../src/core/jobs/model.ts";
import type { NodeRequester } from "../../src/node/requester.ts";
import type { SwarmSettings } from "../swarm-config.ts";
import type { ServerSwarm } from "../swarm-requester.ts";
import type { Job, JobUnit } from "./job.ts";
import type { Solutions } from "./server-solve.ts";
import type { SolveJobInput } from "./solve-input.ts";

export interface SwarmJobDeps {
  readonly swarm: ServerSwarm;
  readonly settings: SwarmSettings;
  /** The server's own origin, as the requester dials it (where the request arrived). */
  readonly origin: string;
  /** How long the job waits for its volunteers (1, or K for a distributed solve) to link. */
  readonly linkWaitMs: number;
  readonly timeLimitMs: number;
}

/** How a job's turn on the swarm ended: solved and certified, cancelled, or to be computed on the server. */
export type SwarmOutcome =
  | { readonly kind: "done"; readonly solutions: Solutions }
  | { readonly kind: "cancelled" }
  | { readonly kind: "time_limit"; readonly message: string }
  | { readonly kind: "fallback"; readonly reason: string };

/**
 * A solve job on the swarm, through the server's requester (the runtime of the Dashboard and `open-swarm
 * submit`): a "solve", "multi-rhs" or "distributed-solve" job of that runtime, placed by its scheduler,
 * every result verified by the requester's own residual, and every x certified again here before the job
 * counts as done. The job's units say where each ran (the volunteer holding or having computed it).
 *
 * It hands the job back (fallback: the caller computes it on the server and notes why) when the swarm
 * cannot be joined, nobody else is online, fewer volunteers than needed link within linkWaitMs, the
 * runtime's job fails, or no volunteer holds any unfinished unit for unheldFallbackMs (its volunteers left).
 */
export async function solveOnSwarmJob(
  job: Job,
  input: SolveJobInput,
  deps: SwarmJobDeps,
): Promise<SwarmOutcome> {
  const { swarm, linkWaitMs } = deps;
  const signal = job.abort.signal;
  const requester = await swarm.requester(deps.origin);
  if (signal.aborted) return { kind: "cancelled" };
  if (requester === null) return { kind: "fallback", reason: "the swarm could not be joined" };
  if (requester.swarm.directory.totalPeers === 0) return { kind: "fallback", reason: "no volunteer online" };
  const k = input.distribute ?? 1;
  let jobId: string;
  try {
    const linked = await requester.awaitVolunteers(k, linkWaitMs, signal);
    if (signal.aborted) return { kind: "cancelled" };
    if (linked < k) {
      const reason = `${linked} of the ${k} volunteer(s) needed linked within ${linkWaitMs} ms`;
      return { kind: "fallback", reason };
    }
    jobId = await requester.runtime.submit({
      name: `api job ${job.id.slice(0, 8)}`,
      kind:
        input.distribute !== undefined ? "distributed-solve" : input.rhs.length > 1 ? "multi-rhs" : "solve",
      a: input.a,
      rhs: input.rhs,
      method: input.method,
      ...(input.preconditioner !== undefined ? { preconditioner: input.preconditioner } : {}),
      tol: input.tol,
      maxIter: input.maxIter,
      ...(input.distribute !== undefined ? { blocks: input.distribute } : {}),
      ...(input.rhsSeed !== undefined ? { rhsSeed: input.rhsSeed } : {}),
    });
  } finally {
    // The job runs now (or was not submitted): the runtime's recruiter keeps or releases the links.
    requester.stopGathering();
  }
  job.update((j) => (j.computedOn = "swarm"));
  return new SwarmWatch(job, input, deps, requester, jobId).outcome;
}

/** Follows the runtime's job after every requester change until it ends one way or another. */
class SwarmWatch {
  readonly outcome: Promise<SwarmOutcome>;
  #resolve!: (outcome: SwarmOutcome) => void;
  #leaving = false;
  #settled = false;
  #unheldSinceMs: number | null = null;
  #shown = "";
  readonly #unwatch: () => void;
  readonly #startedMs = Date.now();
  readonly #onAbort = (): void => {
    if (!this.#leaving) void this.#leave({ kind: "cancelled" });
  };

  constructor(
    private readonly job: Job,
    private readonly input: SolveJobInput,
    private readonly deps: SwarmJobDeps,
    private readonly requester: NodeRequester,
    private readonly jobId: string,
  ) {
    this.outcome = new Promise((resolve) => (this.#resolve = resolve));
    this.#unwatch = deps.swarm.watch(() => this.#check());
    // Cancelled while the runtime took the job: cancel it there at once.
    if (job.abort.signal.aborted) void this.#leave({ kind: "cancelled" });
    else {
      job.abort.signal.addEventListener("abort", this.#onAbort, { once: true });
      this.#check();
    }
  }

  #check(): void {
    if (this.#leaving) return;
    const runtimeJob = this.requester.job(this.jobId);
    const units = this.requester.runtime.units(this.jobId);
    if (runtimeJob === undefined || units.length === 0) return;
    this.#show(units);
    if (runtimeJob.status === "done") {
      this.#leaving = true;
      void this.#certify();
      return;
    }
    if (runtimeJob.status !== "running") {
      const why = runtimeJob.outcome?.message ?? "";
      void this.#leave(
        { kind: "fallback", reason: `the swarm job ended ${runtimeJob.status}: ${why}` },
        true,
      );
      return;
    }
    if (Date.now() - this.#startedMs > this.deps.timeLimitMs) {
      const message = `no verified result within ${this.deps.timeLimitMs} ms`;
      void this.#leave({ kind: "time_limit", message }, true);
      return;
    }
    const held = units.some((u) => u.status === "leased" || u.status === "verifying");
    if (held || units.every((u) => u.status === "done")) {
      this.#unheldSinceMs = null;
      return;
    }
    // Its first placement may take as long as linking did; a volunteer that left frees its units at once.
    const allowedMs = Math.max(this.deps.settings.unheldFallbackMs, this.deps.linkWaitMs);
    this.#unheldSinceMs ??= Date.now();
    if (Date.now() - this.#unheldSinceMs >= allowedMs) {
      void this.#leave(
        { kind: "fallback", reason: `no volunteer held the job's units for ${allowedMs} ms` },
        true,
      );
    }
  }

  /** The job's units and progress, as the runtime has them now (an event only when they changed). */
  #show(units: readonly WorkUnit[]): void {
    const shown = units.map(unitView);
    const done = units.filter((u) => u.status === "done").length;
    const key = JSON.stringify(shown);
    if (key === this.#shown) return;
    this.#shown = key;
    this.job.update((j) => {
      j.units = shown;
      j.progress = { done, total: units.length };
    });
  }

  /** The runtime verified every unit: certify each x here too, then end with them. */
  async #certify(): Promise<void> {
    try {
      const { xs } = await this.requester.runtime.certifiedSolutions(this.jobId);
      const relResiduals = xs.map((x, i) => relativeResidual(this.input.a, x, this.input.rhs[i]!));
      const worst = Math.max(...relResiduals);
      if (xs.length !== this.input.rhs.length || !(worst <= this.input.tol)) {
        const reason = `the swarm's solutions fail the server's own residual check (${worst})`;
        return this.#end({ kind: "fallback", reason });
      }
      this.#end({ kind: "done", solutions: { xs, relResiduals } });
    } catch (error) {
      this.#end({ kind: "fallback", reason: `the certified solutions could not be read: ${String(error)}` });
    }
  }

  /** Ends the watch; `cancel`: the runtime's job is still running and is cancelled first. */
  async #leave(outcome: SwarmOutcome, cancel = outcome.kind === "cancelled"): Promise<void> {
    this.#leaving = true;
    if (cancel) await this.requester.runtime.cancel(this.jobId).catch(() => undefined);
    this.#end(outcome);
  }

  #end(outcome: SwarmOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#unwatch();
    this.job.abort.signal.removeEventListener("abort", this.#onAbort);
    // The job keeps what it needs: the runtime's files of it are removed.
    void this.requester.runtime.deleteJob(this.jobId).catch(() => undefined);
    this.#resolve(outcome);
  }
}

function unitView(unit: WorkUnit): JobUnit {
  const { index } = unit;
  if (unit.status === "done" && unit.result !== null) {
    return {
      index,
      status: "done",
      where: { kind: "volunteer", peer: unit.result.volunteerId, verified: true },
    };
  }
  if (unit.lease !== null && (unit.status === "leased" || unit.status === "verifying")) {
    return {
      index,
      status: "running",
      where: { kind: "volunteer", peer: unit.lease.volunteerId, verified: false },
    };
  }
  return { index, status: unit.status === "failed" ? "failed" : "pending", where: null };
}
