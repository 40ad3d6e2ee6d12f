import { realNowMs } from "../../base/clock.ts";
import { Emitter } from "../../base/emitter.ts";
import type { XpHostRequest, XpHosting, XpInferRequest, XpMessage } from "../../protocol/experts.ts";
import { DEFAULT_GRAPH_BUDGET } from "../models/graph/index.ts";
import type { ExpertHostFault } from "./host-fault.ts";
import { HostedModels } from "./hosted-models.ts";
import { InferQueue } from "./infer-queue.ts";
import { VerdictIntake } from "./verdict-intake.ts";
import type { ExpertHostEvents, ExpertHostOptions, ExpertHostStats, HostRunner } from "./types.ts";

export type * from "./types.ts";

/**
 * The volunteer side of the swarm mixture-of-experts: hosts the models requesters ask for (host-request;
 * hosted-models.ts loads them: the site's models, others only when the host's person enabled it and their
 * graph fits the budget), tells requesters what it serves (`hosting`), and hands their infer-requests to
 * the inference queue (infer-queue.ts: one run at a time, round-robin over requesters, `busy` beyond
 * their bounds, a time limit per run). A
 * requester's models are released when it asks for an empty set or its link closes. A result carries the
 * model's first output (what an expert has), or every output when the request asks for them (the generic
 * job: results.ts).
 */
type HostSettings = Required<Omit<ExpertHostOptions, "fault" | "isolatedRunner">> & {
  fault: ExpertHostFault | null;
  isolatedRunner: (() => HostRunner) | null;
};

export class ExpertHost {
  readonly #o: HostSettings;
  readonly #emitter = new Emitter<ExpertHostEvents>();
  readonly #models: HostedModels;
  readonly #queue: InferQueue;
  readonly #verdicts: VerdictIntake;
  /** The tail of each requester's host-requests, handled one at a time. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #offs: (() => void)[];
  #paused = false;
  #closed = false;
  #allowNonManifest: boolean;

  constructor(options: ExpertHostOptions) {
    this.#o = {
      maxQueuedRequests: 16,
      maxQueuedTotal: 64,
      maxQueuedRows: 16 * 1024,
      manifestByDigest: () => undefined,
      allowNonManifest: false,
      graphBudget: DEFAULT_GRAPH_BUDGET,
      loadTimeoutMs: 120_000,
      runTimeoutMs: 30_000,
      maxModelsPerRequester: 64,
      blobWaitMs: 60_000,
      maxPendingBlobBytes: 512 * 1024 * 1024,
      nowMs: realNowMs,
      ...options,
      fault: options.fault ?? null,
      isolatedRunner: options.isolatedRunner ?? null,
    };
    this.#allowNonManifest = this.#o.allowNonManifest;
    this.#models = new HostedModels({
      ...this.#o,
      allowNonManifest: () => this.#allowNonManifest,
      selfId: this.#o.link.selfId,
      onDropped: () => this.#announce(),
    });
    this.#queue = new InferQueue({
      ...this.#o,
      modelOf: (sha256) => this.#models.get(sha256),
      onRunTimeout: (sha256) => this.#models.runTimedOut(sha256),
      changed: () => this.#emitStats(),
    });
    this.#verdicts = new VerdictIntake(this.#queue.log, this.#o.nowMs);
    const link = this.#o.link;
    this.#offs = [
      link.onMessage((from, message) => this.#onMessage(from, message)),
      link.onModelBytes((_from, sha256, bytes) => {
        if (!this.#closed) this.#models.bytesArrived(sha256, bytes);
      }),
      link.onPeerClosed((peerId) => this.#onPeerClosed(peerId)),
    ];
  }

  on<K extends keyof ExpertHostEvents>(
    event: K,
    listener: (payload: ExpertHostEvents[K]) => void,
  ): () => void {
    return this.#emitter.on(event, listener);
  }

  stats(): ExpertHostStats {
    return {
      hosted: this.#models.hosted,
      requesters: this.#models.requesters.length,
      paused: this.#paused,
      closed: this.#closed,
      queuedRequests: this.#queue.queuedRequests,
      queuedRows: this.#queue.queuedRows,
      ...this.#queue.counts(),
      loadFailures: this.#models.loadFailures,
      loadFailuresByCode: this.#models.failuresByCode,
      allowNonManifest: this.#allowNonManifest,
      fault: this.#o.fault?.snapshot() ?? null,
      log: this.#queue.log.entries,
      verdictsIgnored: this.#queue.log.verdictsIgnored,
      verdictsOverRate: this.#verdicts.overRate,
    };
  }

  /** Tells peers this tab hosts experts (a `hosting` message with what it serves them, usually nothing
   *  yet): a router that adopts announced hosts (the default) then places experts here. Call it when a
   *  peer's link opens. */
  announce(peerIds: readonly string[]): void {
    if (this.#closed) return;
    for (const peerId of peerIds) {
      this.#o.link.send(peerId, this.#hostingFor(peerId, null, [])).catch(() => undefined);
    }
  }

  /** The host's person's switch: host models that are not the site's own (checked against the graph
   *  budget, each on a runner of its own). Switching it off drops those hosted now; requesters are told. */
  setAllowNonManifest(allow: boolean): void {
    if (this.#closed || allow === this.#allowNonManifest) return;
    this.#allowNonManifest = allow;
    if (allow) return this.#emitStats();
    void this.#models.dropNonManifest().then(() => this.#announce());
  }

  /** Stops serving: queued requests are answered `paused` (so requesters reroute at once), new ones too,
   *  and every requester is told. The batch already running completes. */
  pause(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.#queue.drain("paused", "the host paused");
    this.#announce();
  }

  resume(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    this.#announce();
  }

  /** Leaves the swarm: queued requests are answered `shutting_down`, every model is unloaded. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#queue.close("the host is closing");
    this.#closed = true;
    for (const off of this.#offs) off();
    await this.#models.close();
    this.#emitStats();
  }

  #onMessage(from: string, message: XpMessage): void {
    if (this.#closed) return;
    if (message.kind === "host-request") {
      // One host-request at a time per requester, so a later set always replaces an earlier one.
      const previous = this.#chains.get(from) ?? Promise.resolve();
      const next = previous
        .then(() => this.#host(from, message))
        .catch((error: unknown) => {
          console.error("expert host: host-request failed", error);
        });
      this.#chains.set(from, next);
      return;
    }
    if (message.kind === "infer-request") this.#accept(from, message);
    else if (message.kind === "batch-verdict") {
      // Display only (batch-log.ts): applied to a batch this host sent that requester, if any.
      if (this.#verdicts.receive(from, message)) this.#emitStats();
    }
    // hosting / infer-result / infer-error are for requesters: a host ignores them.
  }

  async #host(from: string, request: XpHostRequest): Promise<void> {
    // Each model announced as it loads (unprompted `hosting`, requestId null): the requester routes rows to
    // it at once instead of waiting for the whole set; the answer to the request itself still follows.
    const failed = await this.#models.host(from, request, () => {
      if (this.#closed) return;
      this.#o.link.send(from, this.#hostingFor(from, null, [])).catch(() => undefined);
      this.#emitStats();
    });
    if (failed === null || this.#closed) return;
    const hosting = this.#hostingFor(from, request.requestId, failed);
    this.#emitter.emit("hosting", { requester: from, hosting });
    this.#o.link.send(from, hosting).catch(() => undefined);
    this.#emitStats();
  }

  #accept(from: string, request: XpInferRequest): void {
    const fault = this.#o.fault;
    const action = fault?.onRequest() ?? "serve";
    if (action === "ignore") return;
    if (action === "die" && fault) {
      // TEST ONLY: the tab goes away holding this batch.
      fault.diedHoldingRows = request.rows;
      void this.close();
      this.#o.link.close();
      return;
    }
    if (this.#paused) return this.#queue.refuse(from, request.id, "paused", "the host paused");
    this.#queue.accept(from, request);
  }

  #onPeerClosed(peerId: string): void {
    this.#verdicts.forget(peerId);
    if (this.#closed || !this.#models.release(peerId)) return;
    this.#queue.dropFrom(peerId);
    void this.#models.unloadUnclaimed().then(() => this.#emitStats());
  }

  #hostingFor(requester: string, requestId: string | null, failed: XpHosting["failed"]): XpHosting {
    return {
      kind: "hosting",
      requestId,
      provider: this.#o.runner.provider,
      hosted: this.#models.claimedBy(requester),
      failed,
      paused: this.#paused,
      maxQueuedRequests: this.#o.maxQueuedRequests,
    };
  }

  #announce(): void {
    for (const requester of this.#models.requesters) {
      this.#o.link.send(requester, this.#hostingFor(requester, null, [])).catch(() => undefined);
    }
    this.#emitStats();
  }

  #emitStats(): void {
    this.#emitter.emit("stats", this.stats());
  }
}
