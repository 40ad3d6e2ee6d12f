import type { RouterCore } from "../core.ts";
import { CanarySupply, type CanaryRow } from "../verification/canaries.ts";
import { ExpertError } from "../../models/runner.ts";
import type { Job } from "./job.ts";

/**
 * The lifecycle both kinds of job share (classify.ts: the mixture of experts; run-model.ts: the generic
 * model), in the order they go through it: opened (refused on a closed router, the clock started), inputs
 * checked, an id given, canaries handed out from the rows computed here, the remaining rows cut into
 * batches, and run. Each kind keeps what is its own: how its rows are routed, what it computes first, how
 * its result is assembled.
 */

/** Starts a job: its start time on the router's clock; refused on a closed router. */
export function openJob(core: RouterCore): number {
  if (core.closed) throw new ExpertError("unavailable", "the router is closed");
  return core.o.nowMs();
}

/** Refuses NaN and infinities: a host would compute garbage from them, and no comparison could catch it. */
export function checkFiniteInput(input: Float32Array): void {
  for (let i = 0; i < input.length; i++) {
    if (!Number.isFinite(input[i]!)) throw new ExpertError("bad_input", `input value ${i} is ${input[i]}`);
  }
}

/** The next job id, once a job is known to be valid ("job-3" for classify, "run-4" for runModel). */
export function nextJobId(core: RouterCore, prefix: "job" | "run"): string {
  return `${prefix}-${++core.seq}`;
}

/** Hands out, as canaries of model e, the rows at `positions` in its row list whose outputs the requester
 *  computed (`outputs`, `width` values a row, in the order of `positions`). */
export function canarySupply(
  job: Job,
  e: number,
  positions: Int32Array,
  outputs: Float32Array,
  width: number,
  random: () => number,
): CanarySupply {
  const canaries: CanaryRow[] = [...positions].map((row, i) => ({
    row,
    input: job.inputOf(e, row),
    output: outputs.subarray(i * width, (i + 1) * width),
  }));
  return new CanarySupply(canaries, random);
}

/** Positions 0..count-1: every row of a model's row list. */
export function allPositions(count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => i);
}

/** `positions` cut into batches of batchRows (views, not copies). */
export function batchesOf(positions: Int32Array, batchRows: number): Int32Array[] {
  const batches: Int32Array[] = [];
  for (let at = 0; at < positions.length; at += batchRows) {
    batches.push(positions.subarray(at, at + batchRows));
  }
  return batches;
}

/**
 * Runs a job's batches (`start` sends them) to the end: the job is listed as running meanwhile, so a host
 * caught lying has what it gave it recomputed here, and those recomputations are waited for. With a signal,
 * an abort rejects at once with its reason, and no batch is sent or computed after it. However the job
 * ends, its batches stop where they are.
 */
export async function runJob(
  core: RouterCore,
  job: Job,
  start: () => Promise<unknown>,
  signal?: AbortSignal,
): Promise<void> {
  core.jobs.add(job);
  // Stopped the moment the signal aborts, not once the rejection has propagated: a slot freed in between
  // must not send one more of its batches.
  const stop = (): void => void (job.cancelled = true);
  signal?.addEventListener("abort", stop, { once: true });
  try {
    const work = start().then(async () => {
      while (job.redo.length > 0) await Promise.all(job.redo.splice(0));
    });
    if (signal) {
      work.catch(() => undefined); // an abort leaves it running to its end: its failure is moot
      await Promise.race([work, aborted(signal)]);
    } else {
      await work;
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    job.cancelled = true;
    core.jobs.delete(job);
    core.persist(); // the reputation this job earned or cost, to the caller's store
  }
}

/** Rejects with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}
