import { planCanaryRows, type CanarySupply } from "../verification/canaries.ts";
import { argmaxRows, combineExperts } from "./combine.ts";
import { isSelf, sleep, type RouterCore } from "../core.ts";
import type { BatchDispatcher } from "../dispatch/dispatch.ts";
import { MAX_CLASSIFY_ROWS } from "./generic.ts";
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
import type { ClassifyOptions, ClassifyResult, TestFirstBatchTo } from "../types.ts";
import { routeRows } from "./routing.ts";
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
  const gateMs = o.nowMs() - gateStarted;
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

  // Per expert: all local when nobody hosts it, else canaries first (computed here), then remote batches.
  const batches: ExpertBatch[][] = [];
  const localOnly: number[] = [];
  for (let e = 0; e < shas.length; e++) {
    const count = routing.rowsOf[e]!.length;
    if (count === 0) continue;
    const hosts = registry.hostsFor(shas[e]!);
    if (hosts.length === 0) {
      localOnly.push(e);
      continue;
    }
    // Canaries only when another tab may take the batches: this tab's own host is trusted.
    const perRequest = hosts.some((h) => !isSelf(core, h.peerId)) ? o.canariesPerRequest : 0;
    const plan = planCanaryRows(allPositions(count), o.batchRows, perRequest, o.random);
    const canaryOut = await ledger.computeLocally(job, e, plan.canaryRows, "canary");
    const supply = canarySupply(job, e, plan.canaryRows, canaryOut, o.classes, o.random);
    batches.push(batchesOf(plan.remoteRows, o.batchRows).map((positions) => ({ e, positions, supply })));
  }
  // Interleaved across experts, so every host gets work from the start.
  const order: ExpertBatch[] = [];
  for (let i = 0; batches.some((l) => i < l.length); i++)
    for (const l of batches) if (i < l.length) order.push(l[i]!);
  // TEST ONLY: each forced host's batch is dispatched first, so its slot is taken before any other batch
  // asks for one.
  const firstTo = new Map<ExpertBatch, string>();
  for (const { peerId, e } of forced) {
    const at = order.findIndex((b) => b.e === e && !firstTo.has(b));
    if (at < 0) {
      throw new ExpertError(
        "unavailable",
        `test-only firstBatchTo: expert ${e} has no remote batch left in this job for ${peerId}`,
      );
    }
    const batch = order.splice(at, 1)[0]!;
    firstTo.set(batch, peerId);
  }
  order.unshift(...firstTo.keys());
  await runJob(core, job, () =>
    Promise.all([
      ...localOnly.map((e) =>
        ledger.computeLocally(job, e, allPositions(routing.rowsOf[e]!.length), "fallback"),
      ),
      ...order.map((b) => dispatcher.runBatch(job, b.e, b.positions, b.supply, firstTo.get(b) ?? null)),
    ]),
  );

  const logits = combineExperts(routing, weights, job.outputs, o.classes);
  totals.rowsClassified += rows;
  emitter.emit("stats", null);
  return {
    jobId,
    rows,
    logits,
    predictions: argmaxRows(logits, o.classes),
    rowsPerExpert: routing.rowsOf.map((l) => l.length),
    chosenPerExpert: [...routing.chosenCount],
    rowsBySource: Object.fromEntries(job.bySource),
    gateMs,
    elapsedMs: o.nowMs() - started,
  };
}

/**
 * TEST ONLY (ClassifyOptions.testFirstBatchTo): waits until every forced host serves an expert with enough
 * rows in this job for a remote batch (more than the canaries taken from them); for each host, in the order
 * given, that expert: the one with the most rows, among those not given to an earlier host when it can, so
 * each gets a full batch of its own. Throws ExpertError("timeout") after `waitMs`, naming a host that serves
 * none and what the router knows of it.
 */
async function forcedExperts(
  core: RouterCore,
  { peerIds, waitMs }: TestFirstBatchTo,
  rowsOf: readonly Int32Array[],
): Promise<{ peerId: string; e: number }[]> {
  const { o, registry, shas } = core;
  const deadline = o.nowMs() + waitMs;
  for (;;) {
    const now = o.nowMs();
    const servable = (peerId: string): number[] => {
      const entry = registry.get(peerId);
      return shas.flatMap((sha, e) =>
        entry && registry.usable(entry, sha, now) && rowsOf[e]!.length > 2 * o.canariesPerRequest ? [e] : [],
      );
    };
    const missing = peerIds.find((id) => servable(id).length === 0);
    if (missing === undefined) {
      const taken = new Set<number>();
      return peerIds.map((peerId) => {
        const byRows = servable(peerId).sort((a, b) => rowsOf[b]!.length - rowsOf[a]!.length || a - b);
        const e = byRows.find((x) => !taken.has(x)) ?? byRows[0]!;
        taken.add(e);
        return { peerId, e };
      });
    }
    const left = deadline - now;
    if (left <= 0) {
      throw new ExpertError(
        "timeout",
        `test-only firstBatchTo: ${missing} serves no expert of this job after ${waitMs} ms (${hostState(core, missing, now)})`,
      );
    }
    await Promise.race([registry.nextChange(), sleep(Math.min(left, 250))]);
  }
}

/** What the router knows of a host, for the error above. */
function hostState(core: RouterCore, peerId: string, now: number): string {
  const entry = core.registry.get(peerId);
  if (!entry) return "never announced hosting";
  const placed = core.placement.placement.get(peerId) ?? [];
  const ready = core.shas.flatMap((sha, e) => (entry.ready.has(sha) ? [e] : []));
  return [
    ...(entry.banned !== null ? [`banned (${entry.banned})`] : []),
    ...(entry.connected ? [] : ["disconnected"]),
    ...(entry.paused ? ["paused"] : []),
    ...(entry.suspendedUntilMs > now ? ["suspended"] : []),
    `placed [${placed.join(", ")}]`,
    `ready [${ready.join(", ")}]`,
  ].join(", ");
}
