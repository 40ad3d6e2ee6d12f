import { planCanaryRows, type CanarySupply } from "../verification/canaries.ts";
import { argmaxRows, combineExperts } from "./combine.ts";
import { isSelf, keepFinished, type RouterCore } from "../core.ts";
import type { BatchDispatcher } from "../dispatch/dispatch.ts";
import { MAX_CLASSIFY_ROWS } from "./generic.ts";
import { forcedExperts, forceFirstBatches } from "./first-batch.ts";
import { Job } from "./job.ts";
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
import type { ClassifyOptions, ClassifyResult } from "../types.ts";
import { routeRows } from "./routing.ts";
import { warmingHosts } from "../warming.ts";
import { ExpertError } from "../../models/runner.ts";

interface ExpertBatch {
  readonly e: number;
  readonly positions: Int32Array;
  readonly supply: CanarySupply;
}

/**
 * The mixture-of-experts job (ExpertRouter.classify): the gate runs here, each row goes to the experts with
 * a non-zero gate weight, each expert's rows go in batches to its hosts (dispatch/dispatch.ts), and the
 * outputs are combined exactly as the whole-graph model does (combine.ts).
 */
export async function classifyJob(
  core: RouterCore,
  ledger: RowLedger,
  dispatcher: BatchDispatcher,
  pixels: Float32Array,
  rows: number,
  options: ClassifyOptions,
): Promise<ClassifyResult> {
  const { o, local, shas, registry, totals, perExpert, emitter } = core;
  const started = openJob(core);
  const signal = options.signal;
  signal?.throwIfAborted();
  if (Number.isInteger(rows) && rows > MAX_CLASSIFY_ROWS) {
    throw new ExpertError(
      "bad_input",
      `${rows} rows in one classify job; at most ${MAX_CLASSIFY_ROWS} (split the input into several jobs)`,
    );
  }
  const cols = (await local.gate()).inputCols;
  if (!Number.isInteger(rows) || rows < 1 || pixels.length !== rows * cols) {
    throw new ExpertError("bad_input", `input has ${pixels.length} values for ${rows} rows of ${cols}`);
  }
  checkFiniteInput(pixels);
  const jobId = nextJobId(core, "job");
  const gateStarted = o.nowMs();
  const { weights, chosen } = await local.runGate(pixels, rows);
  signal?.throwIfAborted();
  const gateMs = o.nowMs() - gateStarted;
  const gateDoneMs = o.nowMs() - started;
  // This job's share of the router's running totals, for its timeline.
  const before = { ...totals };
  const routing = routeRows({ rows, experts: shas.length, weights, chosen });
  // TEST ONLY: before anything is dispatched, wait until each forced host serves one of this job's experts.
  const forced = options.testFirstBatchTo
    ? await forcedExperts(core, options.testFirstBatchTo, routing.rowsOf)
    : [];
  const job = new Job(
    jobId,
    pixels,
    cols,
    rows,
    routing.rowsOf,
    core.expertModels,
    options.onProgress ?? null,
  );
  totals.jobs++;
  routing.rowsOf.forEach((list, e) => {
    perExpert[e]!.routed += list.length;
    perExpert[e]!.chosen += routing.chosenCount[e]!;
    totals.expertRows += list.length;
  });

  // Per expert: all local when nobody hosts it or is loading it (warming.ts), else canaries first
  // (computed here, every expert's at once, while the hosts load), then remote batches.
  const localOnly: number[] = [];
  const remote = shas.flatMap((sha, e) => {
    if (routing.rowsOf[e]!.length === 0) return [];
    const hosts = [...registry.hostsFor(sha).map((h) => h.peerId), ...warmingHosts(core, sha, new Set())];
    if (hosts.length === 0) {
      localOnly.push(e);
      return [];
    }
    return [{ e, hosts }];
  });
  const batches: ExpertBatch[][] = await Promise.all(
    remote.map(async ({ e, hosts }) => {
      // Canaries only when another tab may take the batches: this tab's own host is trusted.
      const perRequest = hosts.some((id) => !isSelf(core, id)) ? o.canariesPerRequest : 0;
      const plan = planCanaryRows(allPositions(routing.rowsOf[e]!.length), o.batchRows, perRequest, o.random);
      const canaryOut = await ledger.computeLocally(job, e, plan.canaryRows, "canary");
      const supply = canarySupply(job, e, plan.canaryRows, canaryOut, o.classes, o.random);
      return batchesOf(plan.remoteRows, o.batchRows).map((positions) => ({ e, positions, supply }));
    }),
  );
  // Interleaved across experts, so every host gets work from the start.
  const order: ExpertBatch[] = [];
  for (let i = 0; batches.some((l) => i < l.length); i++)
    for (const l of batches) if (i < l.length) order.push(l[i]!);
  // TEST ONLY: each forced host's batch is dispatched first, so its slot is taken before any other batch
  // asks for one.
  const firstTo = forceFirstBatches(order, forced);
  const canariesDoneMs = o.nowMs() - started;
  signal?.throwIfAborted();
  await runJob(
    core,
    job,
    () =>
      Promise.all([
        ...localOnly.map((e) =>
          ledger.computeLocally(job, e, allPositions(routing.rowsOf[e]!.length), "fallback"),
        ),
        ...order.map((b) => dispatcher.runBatch(job, b.e, b.positions, b.supply, firstTo.get(b) ?? null)),
      ]),
    signal,
  );

  totals.rowsClassified += rows;
  emitter.emit("stats", null);
  const elapsedMs = o.nowMs() - started;
  const timeline = {
    gateDoneMs,
    canariesDoneMs,
    batchesDoneMs: elapsedMs,
    warmWaitMs: totals.warmWaitMs - before.warmWaitMs,
    warmWaitEndMs: totals.warmWaitEndAtMs > started ? totals.warmWaitEndAtMs - started : 0,
    remoteBatches: totals.remoteBatches - before.remoteBatches,
    replicatedBatches: totals.replicatedBatches - before.replicatedBatches,
  };
  // Also what a revision returns (row-ledger.ts), from the job's outputs as they are then.
  const assemble = (): ClassifyResult => {
    const logits = combineExperts(routing, weights, job.outputs, o.classes);
    return {
      jobId,
      rows,
      logits,
      predictions: argmaxRows(logits, o.classes),
      rowsPerExpert: routing.rowsOf.map((l) => l.length),
      chosenPerExpert: [...routing.chosenCount],
      rowsBySource: Object.fromEntries(job.bySource),
      gateMs,
      elapsedMs,
      timeline,
    };
  };
  keepFinished(core, job, assemble);
  return assemble();
}
