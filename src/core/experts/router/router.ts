import type { ReputationBook } from "../../trust/reputation.ts";
import { classifyJob } from "./jobs/classify.ts";
import { createRouterCore, expertsOf, sleep, type RouterCore } from "./core.ts";
import { BatchDispatcher } from "./dispatch/dispatch.ts";
import { RowLedger } from "./verification/row-ledger.ts";
import { HostQualifier } from "./verification/qualification.ts";
import { runModelJob } from "./jobs/run-model.ts";
import { routerStats } from "./stats.ts";
import type {
  ClassifyOptions,
  ClassifyResult,
  ExpertRouterOptions,
  RouterEvents,
  RouterStatsSnapshot,
  RunModelOptions,
  RunModelResult,
} from "./types.ts";
import { ExpertError, type ModelSource } from "../models/runner.ts";
import type { XpMessage } from "../../protocol/experts.ts";

/**
 * The requester side of the swarm mixture-of-experts. classify() runs the gate locally, routes each row to
 * the experts with a non-zero gate weight, sends each expert's rows in batches to the volunteers hosting it
 * (placement-plan.ts decides who hosts what; setVolunteers() keeps it current), and combines the outputs exactly
 * as the whole-graph model does (combine.ts).
 *
 * No input is ever dropped: a batch whose host times out, closes, errs or is caught lying goes to another
 * host of that expert, and after maxRemoteAttempts (or when no host is usable) the requester computes it
 * itself. classify() resolves with an answer for every row, or rejects with an ExpertError when the
 * requester's own runner fails (then there is nobody left to ask).
 *
 * Verification: canary rows in every request (canaries.ts), and adaptive replication
 * driven by trust/reputation.ts (replication.ts); a host caught is banned, its answers discarded. This tab's
 * own host (reached through the link's loopback) runs the requester's own code: what it computes is trusted
 * as the requester's own computation is, so it gets no canaries and is never replicated.
 *
 * runModel() is the generic job: any model (no gate), its rows in batches to every volunteer that loaded it
 * (the model goes to them with the experts' host-requests, as a blob when it is bytes), every output kept,
 * with the same timeouts, retries, fallback and verification; its canaries are a few rows per batch that
 * the requester computes first.
 *
 * This class is the facade: the shared state is core.ts; one batch's trip to a host dispatch/ (dispatch.ts,
 * with its canaries); verification/ checks answers (verify.ts: replication) and books accepted rows and
 * liars (row-ledger.ts); the two kinds of job are jobs/classify.ts and jobs/run-model.ts on one skeleton
 * (jobs/lifecycle.ts); placement.ts tells volunteers what to host; stats.ts is the snapshot.
 */
export class ExpertRouter {
  readonly #core: RouterCore;
  readonly #ledger: RowLedger;
  readonly #dispatcher: BatchDispatcher;
  readonly #qualifier: HostQualifier;
  readonly #offs: (() => void)[];

  constructor(options: ExpertRouterOptions) {
    this.#core = createRouterCore(options);
    this.#ledger = new RowLedger(this.#core);
    this.#dispatcher = new BatchDispatcher(this.#core, this.#ledger);
    this.#qualifier = new HostQualifier(
      this.#core,
      this.#ledger,
      this.#dispatcher.ask.bind(this.#dispatcher),
    );
    this.#offs = [
      this.#core.o.link.onMessage((from, message) => this.#onMessage(from, message)),
      this.#core.o.link.onPeerClosed((peerId) => this.#onPeerClosed(peerId)),
    ];
  }

  get reputation(): ReputationBook {
    return this.#core.book;
  }

  on<K extends keyof RouterEvents>(event: K, listener: (payload: RouterEvents[K]) => void): () => void {
    return this.#core.emitter.on(event, listener);
  }

  /** Loads the gate locally and checks its interface; classify() calls it too. Nothing to do for a router
   *  without a gate. */
  async init(): Promise<void> {
    if (this.#core.shas.length > 0) await this.#core.local.gate();
  }

  /**
   * Gets ready for a first job before it is asked for (prefetch): the gate and every expert start loading
   * in this tab (canaries and fallback need them; a site's model runs once as part of its load, so its
   * kernels are compiled before the job: models/session-pool.ts), and `peerIds` are offered placement as
   * setVolunteers does, so hosts load their experts now; hosts that announce themselves later are placed on
   * when they join (adoptAnnouncedHosts). Nothing waits: a load that fails here is tried again by the job
   * that needs it.
   */
  prefetch(peerIds: readonly string[]): void {
    if (this.#core.closed) return;
    const { local, shas } = this.#core;
    if (shas.length > 0) {
      void local.gate().catch(() => undefined);
      for (let e = 0; e < shas.length; e++) void local.loadExpert(e).catch(() => undefined);
    }
    this.setVolunteers(peerIds);
  }

  /**
   * Sample inputs (`rows` rows of the gate's input width, e.g. the test images the Experts view fetches for
   * its form) that the router sends to hosts nobody trusts yet while no job runs, checking each answer in
   * full, so that they are trusted before the first job instead of being checked in full inside it
   * (verification/qualification.ts). Without samples, trust is earned in jobs only. The array is kept, not
   * copied: do not change it.
   */
  qualifyWith(pixels: Float32Array, rows: number): void {
    const core = this.#core;
    if (core.closed || core.shas.length === 0) return;
    core.local
      .gate()
      .then((gate) => this.#qualifier.setSamples({ pixels, rows, cols: gate.inputCols }))
      .catch(() => undefined); // the first job loads the gate again and reports its error
  }

  /** Resolves once every volunteer offered has answered its probe or had probeGraceMs to (so placement
   *  knows every host before a job decides which experts are computed here), or after `timeoutMs`. */
  async waitForProbes(timeoutMs: number): Promise<void> {
    const { o, placement, registry } = this.#core;
    const deadline = o.nowMs() + timeoutMs;
    while (placement.pendingProbes().length > 0) {
      const left = deadline - o.nowMs();
      if (left <= 0) return;
      await Promise.race([registry.nextChange(), sleep(Math.min(left, 100))]);
    }
  }

  /** Whether classify() can run (the router was given a gate and experts). */
  get routesMixture(): boolean {
    return this.#core.shas.length > 0;
  }

  /**
   * The volunteers offering to host experts (peer ids; this tab's own id works too, through the loopback).
   * Recomputes the placement (stable: see placement.ts) and tells every volunteer whose share changed what
   * to host. Banned hosts are left out, and so are peers not known to run an expert host: each offered peer
   * that has not sent `hosting` yet is probed (an empty host-request), and becomes a candidate when it
   * answers (placement.ts). A volunteer whose link closes is removed automatically.
   */
  setVolunteers(peerIds: readonly string[]): void {
    if (this.#core.closed) return;
    this.#core.placement.set(peerIds);
    this.#core.emitter.emit("stats", null);
  }

  /** Resolves once every expert has at least `perExpert` usable hosts (default: the placement's replica
   *  count), or as many as there are volunteers able to host (candidates, and peers whose probe may still be
   *  answered): a peer that does not host experts is not waited on. Rejects with ExpertError("timeout")
   *  naming the experts still short. */
  async waitForHosts(timeoutMs: number, perExpert?: number): Promise<void> {
    const { o, placement, registry, shas } = this.#core;
    const deadline = o.nowMs() + timeoutMs;
    for (;;) {
      const able = placement.candidates.length + placement.pendingProbes().length;
      const need = Math.min(perExpert ?? o.replicas, able);
      const short = shas.flatMap((sha, e) => (registry.hostsFor(sha).length < need ? [e] : []));
      if (short.length === 0) return;
      const left = deadline - o.nowMs();
      if (left <= 0) {
        throw new ExpertError(
          "timeout",
          `experts ${short.join(", ")} have fewer than ${need} hosts after ${timeoutMs} ms`,
        );
      }
      await Promise.race([registry.nextChange(), sleep(Math.min(left, 250))]);
    }
  }

  /** Classifies `rows` inputs (row-major float32, the gate's input width each, e.g. 784 = pixel/255). */
  classify(pixels: Float32Array, rows: number, options: ClassifyOptions = {}): Promise<ClassifyResult> {
    return classifyJob(this.#core, this.#ledger, this.#dispatcher, pixels, rows, options);
  }

  /**
   * The generic job: runs `source` (any ONNX model with one float32 input of `cols` values per row; bytes
   * of an upload, or a manifest entry) on `rows` inputs, sharded across the volunteers that load it, and
   * resolves with every output of the model for every row. Rows a volunteer fails (timeout, link closed,
   * error, caught lying) go to another, then to this tab; none is dropped. Verification as for the experts:
   * canaries (rows this tab computes first, mixed into requests to other tabs), adaptive replication, this
   * tab as arbiter. Rejects with ExpertError (bad_input: rows, shape, non-finite values; or what this tab's
   * own runner reports: corrupt_model, digest_mismatch...), or with the signal's reason when aborted.
   */
  runModel(
    source: ModelSource,
    input: Float32Array,
    rows: number,
    options: RunModelOptions = {},
  ): Promise<RunModelResult> {
    return runModelJob(this.#core, this.#ledger, this.#dispatcher, source, input, rows, options);
  }

  stats(): RouterStatsSnapshot {
    return routerStats(this.#core);
  }

  /** Stops routing: pending calls fail (their batches finish locally), listeners are dropped. Hosts are
   *  told to release our models. */
  close(): void {
    const core = this.#core;
    if (core.closed) return;
    core.placement.releaseAll();
    core.closed = true;
    core.calls.close();
    for (const off of this.#offs) off();
    core.registry.abandon();
  }

  // ---- hosts ---------------------------------------------------------------------------------------------

  #onMessage(from: string, message: XpMessage): void {
    const { calls, registry, modelJobs, placement, emitter, wanted, o } = this.#core;
    if (calls.onMessage(from, message)) return;
    if (message.kind !== "hosting") return;
    const entry = registry.get(from);
    if (entry?.banned != null) return;
    for (const f of message.failed) {
      modelJobs.get(f.sha256)?.failures.push({ peerId: from, code: f.code, message: f.message });
    }
    const updated = registry.hosting(from, message, wanted);
    // It runs an expert host: a placement candidate from now on (placement.ts).
    placement.heard(from, message.requestId);
    // A peer announcing itself as an expert host: place experts on it too.
    if (o.adoptAnnouncedHosts && message.requestId === null) placement.add(from);
    // What it loaded may let an expert kept on its old host go (make before break: placement.ts).
    placement.readyChanged();
    emitter.emit("hosting", {
      peerId: from,
      experts: expertsOf(this.#core, updated.ready),
      failed: message.failed,
    });
    emitter.emit("stats", null);
  }

  #onPeerClosed(peerId: string): void {
    const { calls, registry, placement, emitter } = this.#core;
    calls.onPeerClosed(peerId);
    registry.closed(peerId);
    placement.closed(peerId);
    emitter.emit("stats", null);
  }
}
