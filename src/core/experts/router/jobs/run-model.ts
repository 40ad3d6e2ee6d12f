import { planCanaryRows } from "../verification/canaries.ts";
import { keepFinished, sleep, type HostFailure, type RouterCore } from "../core.ts";
import { toleranceForSource } from "../verification/tolerance.ts";
import type { BatchDispatcher } from "../dispatch/dispatch.ts";
import {
  cannotTravel,
  DEFAULT_TARGET_BATCH_MS,
  genericBatchRows,
  MAX_RUN_MODEL_ROWS,
  ModelTiming,
} from "./generic.ts";
import { Job, type JobModel } from "./job.ts";
import {
  allPositions,
  batchesOf,
  canarySupply,
  checkFiniteInput,
  nextJobId,
  openJob,
  runJob,
} from "./lifecycle.ts";
import type { RowLedger } from "../verification/row-ledger.ts";
import { wideToBlocks } from "../dispatch/outputs.ts";
import type { RunModelOptions, RunModelResult } from "../types.ts";
import { gatherRows } from "./routing.ts";
import { ExpertError, type ModelSource } from "../../models/runner.ts";

/**
 * The generic job (ExpertRouter.runModel): any model (no gate), its rows in batches to every volunteer
 * that loaded it (the model goes to them with the experts' host-requests, as a blob when it is bytes),
 * every output kept, with the same timeouts, retries, fallback and verification as the experts; its
 * canaries are a few rows per batch that the requester computes first.
 */
export async function runModelJob(
  core: RouterCore,
  ledger: RowLedger,
  dispatcher: BatchDispatcher,
  source: ModelSource,
  input: Float32Array,
  rows: number,
  options: RunModelOptions,
): Promise<RunModelResult> {
  const { o, local, placement, registry, totals, emitter } = core;
  const started = openJob(core);
  const signal = options.signal;
  signal?.throwIfAborted();
  if (!Number.isInteger(rows) || rows < 1 || rows > MAX_RUN_MODEL_ROWS) {
    throw new ExpertError("bad_input", `rows must be 1..${MAX_RUN_MODEL_ROWS}, got ${rows}`);
  }
  const loaded = await local.load(source);
  const cols = loaded.inputCols;
  if (input.length !== rows * cols) {
    throw new ExpertError(
      "bad_input",
      `input has ${input.length} values for ${rows} rows; the model takes ${cols} values per row`,
    );
  }
  checkFiniteInput(input);
  signal?.throwIfAborted();
  const sha = loaded.sha256;
  const jobId = nextJobId(core, "run");
  totals.modelJobs++;
  options.onStage?.("placing");
  const failures = beginModel(core, sha, source);
  try {
    // First, rows computed here: the canaries when another tab may take part (a few per batch), else one
    // row to learn the model's outputs. The volunteers load the model meanwhile.
    const self = o.link.selfId;
    const others = [...placement.candidates, ...placement.pendingProbes()].some((id) => id !== self);
    const all = allPositions(rows);
    const asked = Math.max(1, Math.min(4000, Math.floor(options.batchRows ?? o.batchRows)));
    const perRequest = others ? o.canariesPerRequest : 0;
    let plan = planCanaryRows(all, asked, perRequest, o.random);
    if (plan.canaryRows.length === 0) plan = { canaryRows: all.subarray(0, 1), remoteRows: all.subarray(1) };
    const first = await local.runWide(
      loaded,
      null,
      gatherRows(input, cols, plan.canaryRows),
      plan.canaryRows.length,
    );
    const layout = first.layout;
    const width = layout.reduce((n, b) => n + b.cols, 0);
    const localMsPerRow = first.ms / plan.canaryRows.length;
    const timing = new ModelTiming(localMsPerRow, o);
    const model: JobModel = {
      sha256: sha,
      cols: width,
      layout,
      label: `model ${sha.slice(0, 12)}`,
      tolerance: toleranceForSource(source).tolerance,
      expert: null,
      runLocal: async (x, n) => (await local.runWide(loaded, layout, x, n)).wide,
      timeoutMs: (peerId, n) => timing.timeoutMs(peerId, n),
      measured: (peerId, n, ms) => timing.measured(peerId, n, ms),
    };
    const job = new Job(jobId, input, cols, rows, [all], [model], options.onProgress ?? null);
    totals.canaryRows += plan.canaryRows.length;
    totals.localRows += plan.canaryRows.length;
    ledger.accept(job, 0, plan.canaryRows, first.wide, "local");

    await waitForModelHosts(core, started + (options.hostWaitMs ?? o.modelHostWaitMs), signal);
    signal?.throwIfAborted();
    options.onStage?.("running");
    const batchRows = genericBatchRows({
      asked,
      layout,
      inputCols: cols,
      // A volunteer joining mid-job gets canaries even when none was planned (the first row serves).
      canaries: o.canariesPerRequest,
      localMsPerRow,
      targetBatchMs: options.targetBatchMs ?? DEFAULT_TARGET_BATCH_MS,
    });
    const tooBig = cannotTravel(layout, cols, o.canariesPerRequest);
    const localOnlyReason =
      plan.remoteRows.length === 0
        ? `all ${rows} rows were computed here (too few to send)`
        : (tooBig ??
          (registry.hostsFor(sha).length === 0
            ? failures.length > 0
              ? `no volunteer could load the model (${failures[0]!.peerId}: ${failures[0]!.message})`
              : "no volunteer hosts the model"
            : null));
    await runJob(
      core,
      job,
      () => {
        if (localOnlyReason !== null) return ledger.localChunks(job, plan.remoteRows);
        const supply = canarySupply(job, 0, plan.canaryRows, first.wide, width, o.random);
        return Promise.all(
          batchesOf(plan.remoteRows, batchRows).map((positions) =>
            dispatcher.runBatch(job, 0, positions, supply),
          ),
        );
      },
      signal,
    );
    totals.modelRows += rows;
    emitter.emit("stats", null);
    const elapsedMs = o.nowMs() - started;
    const assemble = (): RunModelResult => ({
      jobId,
      rows,
      sha256: sha,
      outputs: wideToBlocks(job.outputs[0]!, rows, layout),
      outputNames: layout.map((b) => b.name),
      rowsBySource: Object.fromEntries(job.bySource),
      hostFailures: [...failures],
      localOnlyReason,
      elapsedMs,
    });
    keepFinished(core, job, assemble);
    return assemble();
  } finally {
    endModel(core, sha);
  }
}

/** Every candidate volunteer hosts the model (besides its experts) while a job on it runs. */
function beginModel(core: RouterCore, sha: string, source: ModelSource): HostFailure[] {
  let entry = core.modelJobs.get(sha);
  if (!entry) core.modelJobs.set(sha, (entry = { jobs: 0, failures: [] }));
  entry.jobs++;
  core.wanted.add(sha);
  core.placement.addExtra(sha, source);
  return entry.failures;
}

function endModel(core: RouterCore, sha: string): void {
  const entry = core.modelJobs.get(sha);
  if (!entry) return;
  if (--entry.jobs === 0) {
    core.modelJobs.delete(sha);
    if (!core.shas.includes(sha)) core.wanted.delete(sha);
  }
  if (!core.closed) core.placement.removeExtra(sha);
}

/** Until every candidate volunteer has answered the host-request carrying the model (loaded it, or said
 *  why not) and no probe is pending, or the deadline. */
async function waitForModelHosts(
  core: RouterCore,
  deadlineMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    if (signal?.aborted || core.closed) return;
    const waiting = core.placement.unsettled().length + core.placement.pendingProbes().length;
    const left = deadlineMs - core.o.nowMs();
    if (waiting === 0 || left <= 0) return;
    await Promise.race([core.registry.nextChange(), sleep(Math.min(left, 100))]);
  }
}
