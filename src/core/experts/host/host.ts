import { realNowMs, type NowMs } from "../../base/clock.ts";
import { Emitter } from "../../base/emitter.ts";
import type { ExpertLink } from "../link/expert-link.ts";
import type { ExpertHostFault, HostFaultSnapshot } from "./host-fault.ts";
import { ExpertError, type LoadedModel, type ModelRunner, type ModelSource } from "../models/runner.ts";
import {
  joinXpOutputs,
  MAX_XP_OUTPUTS,
  MAX_XP_VALUES,
  XP_LOAD_FAILURE_CODES,
  type XpHostModel,
  type XpHostRequest,
  type XpHosting,
  type XpInferErrorCode,
  type XpInferRequest,
  type XpInferResult,
  type XpLoadFailureCode,
  type XpMessage,
} from "../../protocol/experts.ts";

/**
 * The volunteer side of the swarm mixture-of-experts: hosts the models requesters ask for (host-request),
 * loading them through a ModelRunner (a manifest entry fetched by URL, or bytes the requester sent as a
 * blob; the runner checks the digest either way), and serves infer-requests one at a time in arrival order
 * (the runner serializes runs anyway; a FIFO keeps latency fair between requesters). The queue is bounded in
 * requests and rows: beyond it a request is answered `busy` at once, so the requester reroutes instead of
 * waiting. A requester's models are released when it asks for an empty set or its link closes. A result
 * carries the model's first output (what an expert has), or every output when the request asks for them
 * (the generic job), bounded like every xp message (wire.ts).
 */
export interface ExpertHostOptions {
  readonly link: ExpertLink;
  readonly runner: ModelRunner;
  /** The source of a model from the site's manifest, by digest (and the file the requester named);
   *  undefined when this host does not offer it. */
  readonly resolveManifest: (sha256: string, file: string) => ModelSource | undefined;
  /** Queued infer-requests (all requesters) beyond which new ones get `busy`. */
  readonly maxQueuedRequests?: number;
  readonly maxQueuedRows?: number;
  /** Models hosted for one requester. */
  readonly maxModelsPerRequester?: number;
  /** How long a host-request waits for a model's bytes to arrive as a blob. */
  readonly blobWaitMs?: number;
  /** Model bytes held while waiting for their host-request (oldest dropped first). */
  readonly maxPendingBlobBytes?: number;
  /** TEST ONLY: a misbehaving host (host-fault.ts; none by default). */
  readonly fault?: ExpertHostFault;
  /** How old held model bytes are; default the real clock (base/clock.ts). */
  readonly nowMs?: NowMs;
}

export interface ExpertHostStats {
  readonly hosted: readonly string[];
  readonly requesters: number;
  readonly paused: boolean;
  readonly closed: boolean;
  readonly queuedRequests: number;
  readonly queuedRows: number;
  readonly batchesServed: number;
  readonly rowsServed: number;
  /** Time spent inside runner.run. */
  readonly busyMs: number;
  readonly errorsSent: Readonly<Partial<Record<XpInferErrorCode, number>>>;
  readonly loadFailures: number;
  /** TEST ONLY: what the injected fault did (host-fault.ts); null on every real host. */
  readonly fault: HostFaultSnapshot | null;
}

export interface ExpertHostEvents {
  stats: ExpertHostStats;
  /** A host-request was answered. */
  hosting: { readonly requester: string; readonly hosting: XpHosting };
}

interface Queued {
  readonly from: string;
  readonly request: XpInferRequest;
}

/** null when the model is loaded, else why not. */
type LoadOutcome = { readonly code: XpLoadFailureCode; readonly message: string } | null;

const LOAD_CODES: ReadonlySet<string> = new Set(XP_LOAD_FAILURE_CODES);

export class ExpertHost {
  readonly #o: Required<Omit<ExpertHostOptions, "fault">> & { fault: ExpertHostFault | null };
  readonly #emitter = new Emitter<ExpertHostEvents>();
  readonly #claims = new Map<string, Set<string>>();
  readonly #loaded = new Map<string, LoadedModel>();
  readonly #loading = new Map<string, Promise<LoadedModel>>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #blobs = new Map<string, { bytes: Uint8Array; atMs: number }>();
  readonly #blobWaiters = new Map<string, Set<(bytes: Uint8Array) => void>>();
  readonly #reserved = new Map<string, number>();
  readonly #queue: Queued[] = [];
  readonly #offs: (() => void)[];
  readonly #errors: Partial<Record<XpInferErrorCode, number>> = {};
  #queuedRows = 0;
  #running = false;
  #paused = false;
  #closed = false;
  #batches = 0;
  #rows = 0;
  #busyMs = 0;
  #loadFailures = 0;

  constructor(options: ExpertHostOptions) {
    this.#o = {
      maxQueuedRequests: 16,
      maxQueuedRows: 16 * 1024,
      maxModelsPerRequester: 64,
      blobWaitMs: 60_000,
      maxPendingBlobBytes: 512 * 1024 * 1024,
      nowMs: realNowMs,
      ...options,
      fault: options.fault ?? null,
    };
    const link = this.#o.link;
    this.#offs = [
      link.onMessage((from, message) => this.#onMessage(from, message)),
      link.onModelBytes((from, sha256, bytes) => this.#onModelBytes(from, sha256, bytes)),
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
      hosted: [...this.#loaded.keys()],
      requesters: this.#claims.size,
      paused: this.#paused,
      closed: this.#closed,
      queuedRequests: this.#queue.length,
      queuedRows: this.#queuedRows,
      batchesServed: this.#batches,
      rowsServed: this.#rows,
      busyMs: this.#busyMs,
      errorsSent: { ...this.#errors },
      loadFailures: this.#loadFailures,
      fault: this.#o.fault?.snapshot() ?? null,
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

  /** Stops serving: queued requests are answered `paused` (so requesters reroute at once), new ones too,
   *  and every requester is told. The batch already running completes. */
  pause(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.#drainQueue("paused", "the host paused");
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
    this.#drainQueue("shutting_down", "the host is closing");
    this.#closed = true;
    for (const off of this.#offs) off();
    for (const wait of this.#blobWaiters.values()) wait.clear();
    this.#claims.clear();
    this.#blobs.clear();
    const models = [...this.#loaded.keys()];
    this.#loaded.clear();
    await Promise.all(models.map((sha) => this.#o.runner.unload(sha).catch(() => undefined)));
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
    // hosting / infer-result / infer-error are for requesters: a host ignores them.
  }

  async #host(from: string, request: XpHostRequest): Promise<void> {
    const failed: XpHosting["failed"] = [];
    const wanted = request.models.slice(0, this.#o.maxModelsPerRequester);
    for (const extra of request.models.slice(this.#o.maxModelsPerRequester)) {
      failed.push({
        sha256: extra.sha256,
        code: "too_many_models",
        message: `a host serves at most ${this.#o.maxModelsPerRequester} models per requester`,
      });
    }
    // Reserved while loading, so another requester's release does not unload them under us.
    for (const model of wanted) this.#reserved.set(model.sha256, (this.#reserved.get(model.sha256) ?? 0) + 1);
    let outcomes: LoadOutcome[];
    try {
      outcomes = await Promise.all(wanted.map((model) => this.#loadOne(model)));
    } finally {
      for (const model of wanted) {
        const n = (this.#reserved.get(model.sha256) ?? 1) - 1;
        if (n > 0) this.#reserved.set(model.sha256, n);
        else this.#reserved.delete(model.sha256);
      }
    }
    if (this.#closed) return;
    const hosted = new Set<string>();
    outcomes.forEach((outcome, i) => {
      if (outcome === null) hosted.add(wanted[i]!.sha256);
      else failed.push({ sha256: wanted[i]!.sha256, ...outcome });
    });
    this.#loadFailures += failed.length;
    if (hosted.size > 0) this.#claims.set(from, hosted);
    else this.#claims.delete(from);
    await this.#unloadUnclaimed();
    const hosting = this.#hostingFor(from, request.requestId, failed);
    this.#emitter.emit("hosting", { requester: from, hosting });
    this.#o.link.send(from, hosting).catch(() => undefined);
    this.#emitStats();
  }

  async #loadOne(model: XpHostModel): Promise<LoadOutcome> {
    let source: ModelSource | undefined;
    if (model.source === "manifest") {
      source = this.#o.resolveManifest(model.sha256, model.file);
      if (!source || (source.kind === "manifest" && source.entry.sha256 !== model.sha256)) {
        return {
          code: "not_in_manifest",
          message: `${model.file} (${model.sha256.slice(0, 12)}) is not offered here`,
        };
      }
    } else if (!this.#loaded.has(model.sha256)) {
      const bytes = await this.#waitForBytes(model.sha256);
      if (!bytes) {
        return {
          code: "blob_missing",
          message: `the model's bytes did not arrive within ${this.#o.blobWaitMs} ms`,
        };
      }
      source = { kind: "bytes", sha256: model.sha256, bytes, label: model.label };
    }
    try {
      if (!this.#loaded.has(model.sha256)) {
        let loading = this.#loading.get(model.sha256);
        if (!loading && source) {
          loading = this.#o.runner.load(source);
          this.#loading.set(model.sha256, loading);
        }
        const info = await loading!.finally(() => this.#loading.delete(model.sha256));
        if (info.inputCols <= 0 || info.outputCols <= 0) {
          return { code: "corrupt_model", message: "the model's input or output width is not fixed" };
        }
        this.#loaded.set(model.sha256, info);
        this.#blobs.delete(model.sha256);
      }
      return null;
    } catch (error) {
      const code = error instanceof ExpertError && LOAD_CODES.has(error.code) ? error.code : "runtime_failed";
      return { code, message: String(error instanceof Error ? error.message : error).slice(0, 400) };
    }
  }

  #waitForBytes(sha256: string): Promise<Uint8Array | null> {
    const held = this.#blobs.get(sha256);
    if (held) return Promise.resolve(held.bytes);
    return new Promise((resolve) => {
      let waiters = this.#blobWaiters.get(sha256);
      if (!waiters) this.#blobWaiters.set(sha256, (waiters = new Set()));
      const done = (bytes: Uint8Array | null) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#blobWaiters.delete(sha256);
        resolve(bytes);
      };
      const timer = setTimeout(() => done(null), this.#o.blobWaitMs);
      waiters.add(done);
    });
  }

  #onModelBytes(_from: string, sha256: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    const waiters = this.#blobWaiters.get(sha256);
    if (waiters && waiters.size > 0) {
      for (const w of [...waiters]) w(bytes);
      return;
    }
    // Held for a host-request still to come; bounded, and forgotten after blobWaitMs.
    const now = this.#o.nowMs();
    for (const [sha, held] of this.#blobs) if (now - held.atMs > this.#o.blobWaitMs) this.#blobs.delete(sha);
    if (bytes.length > this.#o.maxPendingBlobBytes) return;
    this.#blobs.set(sha256, { bytes, atMs: now });
    let total = 0;
    for (const held of this.#blobs.values()) total += held.bytes.length;
    for (const [sha, held] of this.#blobs) {
      if (total <= this.#o.maxPendingBlobBytes) break;
      total -= held.bytes.length;
      this.#blobs.delete(sha);
    }
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
    const info = this.#loaded.get(request.model);
    if (this.#paused) return this.#error(from, request.id, "paused", "the host paused");
    if (!info)
      return this.#error(
        from,
        request.id,
        "model_missing",
        `model ${request.model.slice(0, 12)} is not hosted here`,
      );
    if (request.cols !== info.inputCols) {
      return this.#error(
        from,
        request.id,
        "bad_input",
        `the model takes ${info.inputCols} values per row, got ${request.cols}`,
      );
    }
    if (
      this.#queue.length >= this.#o.maxQueuedRequests ||
      this.#queuedRows + request.rows > this.#o.maxQueuedRows
    ) {
      return this.#error(
        from,
        request.id,
        "busy",
        `queue full (${this.#queue.length} requests, ${this.#queuedRows} rows)`,
      );
    }
    this.#queue.push({ from, request });
    this.#queuedRows += request.rows;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift()) {
        this.#queuedRows -= item.request.rows;
        await this.#serve(item);
        if (this.#closed) return;
      }
    } finally {
      this.#running = false;
    }
  }

  async #serve({ from, request }: Queued): Promise<void> {
    const info = this.#loaded.get(request.model);
    if (!info) return this.#error(from, request.id, "model_missing", "the model was released before it ran");
    let blocks: { name: string; data: Float32Array; cols: number }[];
    let ms: number;
    try {
      const out = await this.#o.runner.run(request.model, request.data, request.rows);
      // Experts need their first output only; the generic job asks for every one (in the model's order).
      const names = request.allOutputs ? info.outputNames : info.outputNames.slice(0, 1);
      blocks = names.map((name) => {
        const o = out.outputs[name];
        if (!o) throw new ExpertError("runtime_failed", `the model produced no output ${name}`);
        if (o.data.length !== request.rows * o.cols) {
          throw new ExpertError(
            "runtime_failed",
            `output ${name} has ${o.data.length} values, not one row of ${o.cols} per input row`,
          );
        }
        return { name, data: o.data.slice(), cols: o.cols };
      });
      if (blocks.length === 0) throw new ExpertError("runtime_failed", "the model produced no output");
      if (blocks.length > MAX_XP_OUTPUTS) {
        throw new ExpertError(
          "bad_input",
          `the model has ${blocks.length} outputs; at most ${MAX_XP_OUTPUTS} travel`,
        );
      }
      const values = request.rows * blocks.reduce((n, b) => n + b.cols, 0);
      if (values > MAX_XP_VALUES) {
        throw new ExpertError(
          "bad_input",
          `the outputs of ${request.rows} rows are ${values} values, more than one message carries (${MAX_XP_VALUES}): send fewer rows`,
        );
      }
      ms = out.ms;
    } catch (error) {
      const code: XpInferErrorCode =
        error instanceof ExpertError && (error.code === "bad_input" || error.code === "model_missing")
          ? error.code
          : "runtime_failed";
      return this.#error(from, request.id, code, String(error instanceof Error ? error.message : error));
    }
    if (this.#closed) return;
    const fault = this.#o.fault;
    if (fault) for (const b of blocks) b.data = fault.corrupt(b.data, b.cols);
    this.#batches++;
    this.#rows += request.rows;
    this.#busyMs += ms;
    const head = { kind: "infer-result", id: request.id, rows: request.rows, ms } as const;
    const message: XpInferResult = request.allOutputs
      ? { ...head, ...joinXpOutputs(request.rows, blocks) }
      : { ...head, cols: blocks[0]!.cols, data: blocks[0]!.data };
    this.#o.link.send(from, message).catch(() => undefined); // the requester left: nothing to do
    this.#emitStats();
  }

  #error(to: string, id: string, code: XpInferErrorCode, message: string): void {
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
    this.#o.link
      .send(to, { kind: "infer-error", id, code, message: message.slice(0, 500) })
      .catch(() => undefined);
    this.#emitStats();
  }

  #drainQueue(code: XpInferErrorCode, message: string): void {
    for (const { from, request } of this.#queue.splice(0)) this.#error(from, request.id, code, message);
    this.#queuedRows = 0;
  }

  #onPeerClosed(peerId: string): void {
    if (this.#closed || !this.#claims.has(peerId)) return;
    this.#claims.delete(peerId);
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const item = this.#queue[i]!;
      if (item.from !== peerId) continue;
      this.#queuedRows -= item.request.rows;
      this.#queue.splice(i, 1);
    }
    void this.#unloadUnclaimed().then(() => this.#emitStats());
  }

  async #unloadUnclaimed(): Promise<void> {
    const claimed = new Set<string>();
    for (const set of this.#claims.values()) for (const sha of set) claimed.add(sha);
    const drop = [...this.#loaded.keys()].filter(
      (sha) => !claimed.has(sha) && !this.#loading.has(sha) && !this.#reserved.has(sha),
    );
    for (const sha of drop) this.#loaded.delete(sha);
    await Promise.all(drop.map((sha) => this.#o.runner.unload(sha).catch(() => undefined)));
  }

  #hostingFor(requester: string, requestId: string | null, failed: XpHosting["failed"]): XpHosting {
    return {
      kind: "hosting",
      requestId,
      provider: this.#o.runner.provider,
      hosted: [...(this.#claims.get(requester) ?? [])],
      failed,
      paused: this.#paused,
      maxQueuedRequests: this.#o.maxQueuedRequests,
    };
  }

  #announce(): void {
    for (const requester of this.#claims.keys()) {
      this.#o.link.send(requester, this.#hostingFor(requester, null, [])).catch(() => undefined);
    }
    this.#emitStats();
  }

  #emitStats(): void {
    this.#emitter.emit("stats", this.stats());
  }
}
