import { mixCanaries, unmixCanaries, type CanarySupply } from "../verification/canaries.ts";
import type { RemoteAnswer } from "../verification/replication.ts";
import { acquireHost, isSelf, type RouterCore } from "../core.ts";
import type { HostEntry } from "./hosts.ts";
import type { Job, JobModel } from "../jobs/job.ts";
import type { RowLedger } from "../verification/row-ledger.ts";
import { verifyAnswer } from "../verification/verify.ts";
import { tellVerdict } from "../verification/batch-verdicts.ts";
import { acquireWarm } from "../warming.ts";

/**
 * One batch of a job, to the volunteers and back. No input is ever dropped: a batch whose host times out,
 * closes, errs or is caught lying goes to another host of its model, and after maxRemoteAttempts (or when
 * no host is usable) the requester computes it itself. Each answer is checked by its canaries here, then
 * by adaptive replication (verification/verify.ts).
 */
export class BatchDispatcher {
  constructor(
    private readonly core: RouterCore,
    private readonly ledger: RowLedger,
  ) {}

  /** `firstTo`: TEST ONLY (ClassifyOptions.testFirstBatchTo), the host the first attempt must go to; null
   *  (always, outside tests) lets the registry pick. */
  async runBatch(
    job: Job,
    e: number,
    positions: Int32Array,
    supply: CanarySupply,
    firstTo: string | null = null,
  ): Promise<void> {
    const { core, ledger } = this;
    const model = job.models[e]!;
    const input = job.inputsOf(e, positions);
    const rows = positions.length;
    const tried = new Set<string>();
    const ask = this.ask.bind(this);
    for (let attempt = 0; attempt < core.o.maxRemoteAttempts; attempt++) {
      if (job.cancelled) return;
      const forced =
        attempt === 0 && firstTo !== null ? await this.#acquireOnly(model.sha256, firstTo) : null;
      // A model still loading on its hosts is waited for (bounded), not computed here (warming.ts).
      const entry = forced ?? (await acquireWarm(core, model.sha256, tried, attempt === 0 ? 1 : 0));
      if (!entry) break;
      if (job.cancelled) {
        core.registry.release(entry);
        return;
      }
      if (attempt > 0) core.totals.retries++;
      tried.add(entry.peerId);
      const answer = await this.ask(entry, model, input, rows, supply);
      if (!answer) continue;
      const verdict = await verifyAnswer(core, ledger, ask, model, input, rows, supply, answer, tried);
      if (job.cancelled) return;
      ledger.accept(job, e, positions, verdict.output, verdict.source, verdict.checkedBy);
      return;
    }
    if (job.cancelled) return;
    await ledger.computeLocally(job, e, positions, "fallback", input);
  }

  /** TEST ONLY: `peerId`'s slot for the model (every other known host excluded, so the registry can only
   *  grant this one; priority 0, ahead of fresh batches), or null when it is not usable for the model (the
   *  batch is then routed as usual). */
  #acquireOnly(sha256: string, peerId: string): Promise<HostEntry | null> {
    const others = this.core.registry
      .all()
      .map((h) => h.peerId)
      .filter((id) => id !== peerId);
    return acquireHost(this.core, sha256, new Set(others), 0);
  }

  /** Sends the batch (with canaries, unless to this tab's own host) to a host; its answer without the
   *  canaries, or null when it failed or was caught (recorded either way). Releases the host's slot. */
  async ask(
    entry: HostEntry,
    model: JobModel,
    input: Float32Array,
    rows: number,
    supply: CanarySupply,
  ): Promise<RemoteAnswer | null> {
    const { o, totals, registry, calls, emitter } = this.core;
    const cols = input.length / rows;
    const self = isSelf(this.core, entry.peerId);
    const canaries = self ? [] : supply.take(o.canariesPerRequest, o.random);
    const mixed = mixCanaries(input, rows, cols, canaries, o.random);
    entry.stats.sent(mixed.rows);
    totals.canariesSent += canaries.length;
    const outcome = await calls.call(
      entry.peerId,
      { model: model.sha256, rows: mixed.rows, cols, data: mixed.input },
      model.cols,
      model.timeoutMs(entry.peerId, mixed.rows) ?? this.#timeoutFor(entry, mixed.rows),
      model.layout,
    );
    if (!outcome.ok) {
      // State first, then the slot: releasing it hands the host to the next waiter at once.
      if (outcome.reason === "timeout") {
        entry.stats.failed("timeout");
        registry.noteTimeout(entry);
      } else if (outcome.reason === "error") {
        entry.stats.failed(outcome.code === "busy" ? "busy" : "error");
        if (outcome.code === "model_missing") entry.ready.delete(model.sha256);
        if (outcome.code === "paused" || outcome.code === "shutting_down") entry.paused = true;
      } else {
        entry.stats.failed(outcome.reason === "malformed" ? "malformed" : "closed");
      }
      registry.release(entry);
      emitter.emit("stats", null);
      return null;
    }
    registry.release(entry);
    const rejected = { hostId: entry.peerId, output: outcome.data, callId: outcome.id };
    if (entry.banned !== null) {
      tellVerdict(this.core, rejected, "rejected");
      return null; // caught while this request was out: nothing it says counts
    }
    // The tolerance is the one the requester set for the model it sent, never one from the host's claims.
    const { real, canaries: check } = unmixCanaries(outcome.data, model.cols, mixed, model.tolerance);
    if (!check.ok) {
      tellVerdict(this.core, rejected, "rejected");
      entry.stats.failed("canary");
      this.ledger.punish(
        entry.peerId,
        `canary mismatch on ${model.label} (max |Δ| ${check.maxAbsDiff.toExponential(2)})`,
        rows,
      );
      return null;
    }
    // Only expert requests feed the host's latency figures (the router's scores are in expert ms/row).
    entry.stats.succeeded(mixed.rows, outcome.roundTripMs, model.expert !== null);
    model.measured(entry.peerId, mixed.rows, outcome.roundTripMs);
    return { hostId: entry.peerId, output: real, callId: outcome.id };
  }

  /** An expert request's timeout, from the host's EWMA ms/row (firstTimeoutMs while unmeasured). */
  #timeoutFor(entry: HostEntry, rows: number): number {
    const { o } = this.core;
    const perRow = entry.stats.ewmaMsPerRow;
    if (perRow === null) return o.firstTimeoutMs;
    return Math.min(o.maxTimeoutMs, Math.max(o.minTimeoutMs, o.timeoutFactor * perRow * rows));
  }
}
