import { ReputationBook } from "../jobs/reputation.ts";
import { Emitter } from "../net/emitter.ts";
import { CanarySupply, mixCanaries, planCanaryRows, unmixCanaries, type Canary } from "./canaries.ts";
import { argmaxRows, combineExperts } from "./combine.ts";
import {
  cannotTravel,
  DEFAULT_TARGET_BATCH_MS,
  genericBatchRows,
  MAX_CLASSIFY_ROWS,
  MAX_RUN_MODEL_ROWS,
  ModelTiming,
} from "./router-generic.ts";
import { LocalModels } from "./router-local.ts";
import { wideToBlocks } from "./router-outputs.ts";
import { PlacementKeeper } from "./router-placement.ts";
import { adjudicate, replicasAgree, type RemoteAnswer } from "./replication.ts";
import { toleranceFor } from "./replication-tolerance.ts";
import { RemoteCalls } from "./router-calls.ts";
import { HostRegistry, type HostEntry } from "./router-hosts.ts";
import type {
  ClassifyOptions,
  ClassifyResult,
  ExpertRouterOptions,
  RouterEvents,
  RouterStatsSnapshot,
  RouterTotals,
  RunModelOptions,
  RunModelResult,
} from "./router-types.ts";
import { Job, type JobModel } from "./router-job.ts";
import { gatherRows, routeRows } from "./routing.ts";
import { ExpertError, type ModelSource } from "./runner.ts";
import type { XpMessage } from "./wire.ts";

export type * from "./router-types.ts";
export { MAX_CLASSIFY_ROWS, MAX_RUN_MODEL_ROWS } from "./router-generic.ts";

/**
 * The requester side of the swarm mixture-of-experts. classify() runs the gate locally, routes each row to
 * the experts with a non-zero gate weight, sends each expert's rows in batches to the volunteers hosting it
 * (placement.ts decides who hosts what; setVolunteers() keeps it current), and combines the outputs exactly
 * as the whole-graph model does (combine.ts).
 *
 * No input is ever dropped: a batch whose host times out, closes, errs or is caught lying goes to another
 * host of that expert, and after maxRemoteAttempts (or when no host is usable) the requester computes it
 * itself. classify() resolves with an answer for every row, or rejects with an ExpertError when the
 * requester's own runner fails (then there is nobody left to ask).
 *
 * Verification (issue 5, part 5): canary rows in every request (canaries.ts), and adaptive replication
 * driven by jobs/reputation.ts (replication.ts); a host caught is banned, its answers discarded. This tab's
 * own host (reached through the link's loopback) runs the requester's own code: what it computes is trusted
 * as the requester's own computation is, so it gets no canaries and is never replicated.
 *
 * runModel() is the generic job: any model (no gate), its rows in batches to every volunteer that loaded it
 * (the model goes to them with the experts' host-requests, as a blob when it is bytes), every output kept,
 * with the same timeouts, retries, fallback and verification; its canaries are a few rows per batch that
 * the requester computes first.
 */
export class ExpertRouter {
  readonly #o: Required<Omit<ExpertRouterOptions, "reputation" | "gate" | "experts">>;
  readonly #book: ReputationBook;
  readonly #emitter = new Emitter<RouterEvents>();
  readonly #registry: HostRegistry;
  readonly #calls: RemoteCalls;
  readonly #shas: string[];
  readonly #expertModels: JobModel[];
  /** Digests this router uses now: the experts', and the models of running generic jobs. */
  readonly #wanted: Set<string>;
  /** Running generic jobs per model digest, and what volunteers said when they could not load it. */
  readonly #modelJobs = new Map<
    string,
    { jobs: number; failures: RunModelResult["hostFailures"][number][] }
  >();
  readonly #local: LocalModels;
  readonly #offs: (() => void)[];
  readonly #placement: PlacementKeeper;
  readonly #perExpert: { routed: number; chosen: number; local: number }[];
  readonly #rowsByHost = new Map<string, number>();
  readonly #jobs = new Set<Job>();
  #seq = 0;
  #closed = false;
  #totals: { -readonly [K in keyof RouterTotals]: RouterTotals[K] } = {
    jobs: 0,
    rowsClassified: 0,
    expertRows: 0,
    remoteRows: 0,
    localRows: 0,
    fallbackRows: 0,
    canaryRows: 0,
    arbitrationRows: 0,
    canariesSent: 0,
    replicatedBatches: 0,
    disagreements: 0,
    retries: 0,
    liarsCaught: 0,
    rowsDiscarded: 0,
    redoneRows: 0,
    lateResults: 0,
    modelJobs: 0,
    modelRows: 0,
  };

  constructor(options: ExpertRouterOptions) {
    const random = options.random ?? Math.random;
    const nowMs = options.nowMs ?? (() => performance.now());
    const { gate, experts = [], reputation, ...rest } = options;
    this.#o = {
      classes: 10,
      batchRows: 64,
      canariesPerRequest: 1,
      replicas: 2,
      maxInFlightPerHost: 2,
      maxRemoteAttempts: 3,
      minTimeoutMs: 2_000,
      maxTimeoutMs: 60_000,
      firstTimeoutMs: 15_000,
      timeoutFactor: 8,
      suspendAfterTimeouts: 2,
      suspendMs: 30_000,
      explore: 0.05,
      localChunkRows: 1024,
      adoptAnnouncedHosts: true,
      probeGraceMs: 3_000,
      modelHostWaitMs: 15_000,
      ...rest,
      random,
      nowMs,
    };
    if (gate && experts.length < 1)
      throw new ExpertError("bad-input", "the router needs at least one expert");
    if (!gate && experts.length > 0)
      throw new ExpertError("bad-input", "experts without a gate cannot be routed");
    if (this.#o.batchRows < 1 || this.#o.batchRows > 4000) {
      throw new ExpertError("bad-input", `batchRows must be 1..4000, got ${this.#o.batchRows}`);
    }
    this.#book = reputation ?? new ReputationBook();
    this.#shas = experts.map(shaOf);
    this.#wanted = new Set(this.#shas);
    this.#perExpert = this.#shas.map(() => ({ routed: 0, chosen: 0, local: 0 }));
    this.#registry = new HostRegistry({
      maxInFlightPerHost: this.#o.maxInFlightPerHost,
      explore: this.#o.explore,
      suspendAfterTimeouts: this.#o.suspendAfterTimeouts,
      suspendMs: this.#o.suspendMs,
      random,
      nowMs,
    });
    this.#calls = new RemoteCalls(this.#o.link, nowMs, random);
    this.#local = new LocalModels(
      this.#o.local,
      gate ?? null,
      experts,
      this.#o.classes,
      this.#o.localChunkRows,
    );
    this.#expertModels = this.#shas.map((sha256, e) => ({
      sha256,
      cols: this.#o.classes,
      layout: null,
      label: `expert ${e}`,
      expert: e,
      runLocal: (input, rows) => this.#local.runExpert(e, input, rows),
      timeoutMs: () => null,
      measured: () => undefined,
    }));
    this.#placement = new PlacementKeeper(
      this.#o.link,
      experts,
      this.#o.replicas,
      (peerId) => this.#registry.get(peerId)?.banned != null,
      nowMs,
      this.#o.probeGraceMs,
    );
    this.#offs = [
      this.#o.link.onMessage((from, message) => this.#onMessage(from, message)),
      this.#o.link.onPeerClosed((peerId) => this.#onPeerClosed(peerId)),
    ];
  }

  get reputation(): ReputationBook {
    return this.#book;
  }

  on<K extends keyof RouterEvents>(event: K, listener: (payload: RouterEvents[K]) => void): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Loads the gate locally and checks its interface; classify() calls it too. Nothing to do for a router
   *  without a gate. */
  async init(): Promise<void> {
    if (this.#shas.length > 0) await this.#local.gate();
  }

  /** Whether classify() can run (the router was given a gate and experts). */
  get routesMixture(): boolean {
    return this.#shas.length > 0;
  }

  /**
   * The volunteers offering to host experts (peer ids; this tab's own id works too, through the loopback).
   * Recomputes the placement (stable: see placement.ts) and tells every volunteer whose share changed what
   * to host. Banned hosts are left out, and so are peers not known to run an expert host: each offered peer
   * that has not sent `hosting` yet is probed (an empty host-request), and becomes a candidate when it
   * answers (router-placement.ts). A volunteer whose link closes is removed automatically.
   */
  setVolunteers(peerIds: readonly string[]): void {
    if (this.#closed) return;
    this.#placement.set(peerIds);
    this.#emitter.emit("stats", null);
  }

  /** Resolves once every expert has at least `perExpert` usable hosts (default: the placement's replica
   *  count), or as many as there are volunteers able to host (candidates, and peers whose probe may still be
   *  answered): a peer that does not host experts is not waited on. Rejects with ExpertError("timeout")
   *  naming the experts still short. */
  async waitForHosts(timeoutMs: number, perExpert?: number): Promise<void> {
    const deadline = this.#o.nowMs() + timeoutMs;
    for (;;) {
      const able = this.#placement.candidates.length + this.#placement.pendingProbes().length;
      const need = Math.min(perExpert ?? this.#o.replicas, able);
      const short = this.#shas.flatMap((sha, e) => (this.#registry.hostsFor(sha).length < need ? [e] : []));
      if (short.length === 0) return;
      const left = deadline - this.#o.nowMs();
      if (left <= 0) {
        throw new ExpertError(
          "timeout",
          `experts ${short.join(", ")} have fewer than ${need} hosts after ${timeoutMs} ms`,
        );
      }
      await Promise.race([this.#registry.nextChange(), sleep(Math.min(left, 250))]);
    }
  }

  /** Classifies `rows` inputs (row-major float32, the gate's input width each, e.g. 784 = pixel/255). */
  async classify(pixels: Float32Array, rows: number, options: ClassifyOptions = {}): Promise<ClassifyResult> {
    if (this.#closed) throw new ExpertError("unavailable", "the router is closed");
    const started = this.#o.nowMs();
    if (Number.isInteger(rows) && rows > MAX_CLASSIFY_ROWS) {
      throw new ExpertError(
        "bad-input",
        `${rows} rows in one classify job; at most ${MAX_CLASSIFY_ROWS} (split the input into several jobs)`,
      );
    }
    const cols = (await this.#local.gate()).inputCols;
    if (!Number.isInteger(rows) || rows < 1 || pixels.length !== rows * cols) {
      throw new ExpertError("bad-input", `input has ${pixels.length} values for ${rows} rows of ${cols}`);
    }
    for (let i = 0; i < pixels.length; i++) {
      if (!Number.isFinite(pixels[i]!))
        throw new ExpertError("bad-input", `input value ${i} is ${pixels[i]}`);
    }
    const jobId = `job-${++this.#seq}`;
    const gateStarted = this.#o.nowMs();
    const { weights, chosen } = await this.#local.runGate(pixels, rows);
    const gateMs = this.#o.nowMs() - gateStarted;
    const routing = routeRows({ rows, experts: this.#shas.length, weights, chosen });
    const job = new Job(
      jobId,
      pixels,
      cols,
      rows,
      routing.rowsOf,
      this.#expertModels,
      options.onProgress ?? null,
    );
    this.#totals.jobs++;
    routing.rowsOf.forEach((list, e) => {
      this.#perExpert[e]!.routed += list.length;
      this.#perExpert[e]!.chosen += routing.chosenCount[e]!;
      this.#totals.expertRows += list.length;
    });

    // Per expert: all local when nobody hosts it, else canaries first (computed here), then remote batches.
    const batches: { e: number; positions: Int32Array; supply: CanarySupply }[][] = [];
    const localOnly: number[] = [];
    for (let e = 0; e < this.#shas.length; e++) {
      const count = routing.rowsOf[e]!.length;
      if (count === 0) continue;
      const all = Int32Array.from({ length: count }, (_, i) => i);
      const hosts = this.#registry.hostsFor(this.#shas[e]!);
      if (hosts.length === 0) {
        localOnly.push(e);
        continue;
      }
      // Canaries only when another tab may take the batches: this tab's own host is trusted.
      const perRequest = hosts.some((h) => !this.#isSelf(h.peerId)) ? this.#o.canariesPerRequest : 0;
      const plan = planCanaryRows(all, this.#o.batchRows, perRequest, this.#o.random);
      const canaryOut = await this.#computeLocally(job, e, plan.canaryRows, "canary");
      const canaries: Canary[] = [...plan.canaryRows].map((position, i) => ({
        row: position,
        input: job.inputOf(e, position),
        output: canaryOut.subarray(i * this.#o.classes, (i + 1) * this.#o.classes),
      }));
      const supply = new CanarySupply(canaries, this.#o.random);
      const list: { e: number; positions: Int32Array; supply: CanarySupply }[] = [];
      for (let at = 0; at < plan.remoteRows.length; at += this.#o.batchRows) {
        list.push({ e, positions: plan.remoteRows.subarray(at, at + this.#o.batchRows), supply });
      }
      batches.push(list);
    }
    // Interleaved across experts, so every host gets work from the start.
    const order: { e: number; positions: Int32Array; supply: CanarySupply }[] = [];
    for (let i = 0; batches.some((l) => i < l.length); i++)
      for (const l of batches) if (i < l.length) order.push(l[i]!);
    this.#jobs.add(job);
    try {
      await Promise.all([
        ...localOnly.map(async (e) => {
          const all = Int32Array.from({ length: routing.rowsOf[e]!.length }, (_, i) => i);
          await this.#computeLocally(job, e, all, "fallback");
        }),
        ...order.map((b) => this.#runBatch(job, b.e, b.positions, b.supply)),
      ]);
      // Outputs of a host caught later in this job are being recomputed: wait for them.
      while (job.redo.length > 0) await Promise.all(job.redo.splice(0));
    } finally {
      this.#jobs.delete(job);
    }

    const logits = combineExperts(routing, weights, job.outputs, this.#o.classes);
    this.#totals.rowsClassified += rows;
    this.#emitter.emit("stats", null);
    return {
      jobId,
      rows,
      logits,
      predictions: argmaxRows(logits, this.#o.classes),
      rowsPerExpert: routing.rowsOf.map((l) => l.length),
      chosenPerExpert: [...routing.chosenCount],
      rowsBySource: Object.fromEntries(job.bySource),
      gateMs,
      elapsedMs: this.#o.nowMs() - started,
    };
  }

  /**
   * The generic job: runs `source` (any ONNX model with one float32 input of `cols` values per row; bytes
   * of an upload, or a manifest entry) on `rows` inputs, sharded across the volunteers that load it, and
   * resolves with every output of the model for every row. Rows a volunteer fails (timeout, link closed,
   * error, caught lying) go to another, then to this tab; none is dropped. Verification as for the experts:
   * canaries (rows this tab computes first, mixed into requests to other tabs), adaptive replication, this
   * tab as arbiter. Rejects with ExpertError (bad-input: rows, shape, non-finite values; or what this tab's
   * own runner reports: corrupt-model, digest-mismatch...), or with the signal's reason when aborted.
   */
  async runModel(
    source: ModelSource,
    input: Float32Array,
    rows: number,
    options: RunModelOptions = {},
  ): Promise<RunModelResult> {
    if (this.#closed) throw new ExpertError("unavailable", "the router is closed");
    const started = this.#o.nowMs();
    const signal = options.signal;
    signal?.throwIfAborted();
    if (!Number.isInteger(rows) || rows < 1 || rows > MAX_RUN_MODEL_ROWS) {
      throw new ExpertError("bad-input", `rows must be 1..${MAX_RUN_MODEL_ROWS}, got ${rows}`);
    }
    const loaded = await this.#local.load(source);
    const cols = loaded.inputCols;
    if (input.length !== rows * cols) {
      throw new ExpertError(
        "bad-input",
        `input has ${input.length} values for ${rows} rows; the model takes ${cols} values per row`,
      );
    }
    for (let i = 0; i < input.length; i++) {
      if (!Number.isFinite(input[i]!)) throw new ExpertError("bad-input", `input value ${i} is ${input[i]}`);
    }
    signal?.throwIfAborted();
    const sha = loaded.sha256;
    const jobId = `run-${++this.#seq}`;
    this.#totals.modelJobs++;
    options.onStage?.("placing");
    const failures = this.#beginModel(sha, source);
    try {
      // First, rows computed here: the canaries when another tab may take part (a few per batch), else one
      // row to learn the model's outputs. The volunteers load the model meanwhile.
      const self = this.#o.link.selfId;
      const others = [...this.#placement.candidates, ...this.#placement.pendingProbes()].some(
        (id) => id !== self,
      );
      const all = Int32Array.from({ length: rows }, (_, i) => i);
      const asked = Math.max(1, Math.min(4000, Math.floor(options.batchRows ?? this.#o.batchRows)));
      const perRequest = others ? this.#o.canariesPerRequest : 0;
      let plan = planCanaryRows(all, asked, perRequest, this.#o.random);
      if (plan.canaryRows.length === 0)
        plan = { canaryRows: all.subarray(0, 1), remoteRows: all.subarray(1) };
      const first = await this.#local.runWide(
        loaded,
        null,
        gatherRows(input, cols, plan.canaryRows),
        plan.canaryRows.length,
      );
      const layout = first.layout;
      const width = layout.reduce((n, b) => n + b.cols, 0);
      const localMsPerRow = first.ms / plan.canaryRows.length;
      const timing = new ModelTiming(localMsPerRow, this.#o);
      const model: JobModel = {
        sha256: sha,
        cols: width,
        layout,
        label: `model ${sha.slice(0, 12)}`,
        expert: null,
        runLocal: async (x, n) => (await this.#local.runWide(loaded, layout, x, n)).wide,
        timeoutMs: (peerId, n) => timing.timeoutMs(peerId, n),
        measured: (peerId, n, ms) => timing.measured(peerId, n, ms),
      };
      const job = new Job(jobId, input, cols, rows, [all], [model], options.onProgress ?? null);
      this.#totals.canaryRows += plan.canaryRows.length;
      this.#totals.localRows += plan.canaryRows.length;
      this.#accept(job, 0, plan.canaryRows, first.wide, "local");

      await this.#waitForModelHosts(started + (options.hostWaitMs ?? this.#o.modelHostWaitMs), signal);
      signal?.throwIfAborted();
      options.onStage?.("running");
      const batchRows = genericBatchRows({
        asked,
        layout,
        inputCols: cols,
        // A volunteer joining mid-job gets canaries even when none was planned (the first row serves).
        canaries: this.#o.canariesPerRequest,
        localMsPerRow,
        targetBatchMs: options.targetBatchMs ?? DEFAULT_TARGET_BATCH_MS,
      });
      const tooBig = cannotTravel(layout, cols, this.#o.canariesPerRequest);
      const localOnlyReason =
        plan.remoteRows.length === 0
          ? `all ${rows} rows were computed here (too few to send)`
          : (tooBig ??
            (this.#registry.hostsFor(sha).length === 0
              ? failures.length > 0
                ? `no volunteer could load the model (${failures[0]!.peerId}: ${failures[0]!.message})`
                : "no volunteer hosts the model"
              : null));
      this.#jobs.add(job);
      try {
        let work: Promise<unknown>;
        if (localOnlyReason !== null) {
          work = this.#localChunks(job, plan.remoteRows);
        } else {
          const canaries: Canary[] = [...plan.canaryRows].map((row, i) => ({
            row,
            input: job.inputOf(0, row),
            output: first.wide.subarray(i * width, (i + 1) * width),
          }));
          const supply = new CanarySupply(canaries, this.#o.random);
          const batches: Promise<void>[] = [];
          for (let at = 0; at < plan.remoteRows.length; at += batchRows) {
            batches.push(this.#runBatch(job, 0, plan.remoteRows.subarray(at, at + batchRows), supply));
          }
          work = Promise.all(batches);
        }
        work = work.then(async () => {
          while (job.redo.length > 0) await Promise.all(job.redo.splice(0));
        });
        if (signal) {
          work.catch(() => undefined); // an abort leaves it running to its end: its failure is moot
          await Promise.race([work, aborted(signal)]);
        } else {
          await work;
        }
      } finally {
        job.cancelled = true;
        this.#jobs.delete(job);
      }
      this.#totals.modelRows += rows;
      this.#emitter.emit("stats", null);
      return {
        jobId,
        rows,
        sha256: sha,
        outputs: wideToBlocks(job.outputs[0]!, rows, layout),
        outputNames: layout.map((b) => b.name),
        rowsBySource: Object.fromEntries(job.bySource),
        hostFailures: [...failures],
        localOnlyReason,
        elapsedMs: this.#o.nowMs() - started,
      };
    } finally {
      this.#endModel(sha);
    }
  }

  stats(): RouterStatsSnapshot {
    const now = this.#o.nowMs();
    let accepted = 0;
    for (const n of this.#rowsByHost.values()) accepted += n;
    return {
      localProvider: this.#o.local.provider,
      volunteers: [...this.#placement.volunteers],
      candidates: this.#placement.candidates,
      hosts: this.#registry.all().map((h) => {
        const rep = this.#book.get(h.peerId);
        return {
          ...h.stats.snapshot(),
          lateResults: this.#calls.late.get(h.peerId) ?? 0,
          peerId: h.peerId,
          provider: h.provider,
          ready: this.#expertsOf(h.ready),
          placed: [...(this.#placement.placement.get(h.peerId) ?? [])],
          connected: h.connected,
          paused: h.paused,
          suspended: h.suspendedUntilMs > now,
          banned: h.banned,
          trusted: rep.consecutiveValid >= this.#book.policy.trustAfter,
          consecutiveValid: rep.consecutiveValid,
          inFlight: h.inFlight,
          share: accepted === 0 ? 0 : (this.#rowsByHost.get(h.peerId) ?? 0) / accepted,
        };
      }),
      experts: this.#shas.map((sha, e) => ({
        expert: e,
        sha256: sha,
        placedOn: [...this.#placement.placement].filter(([, es]) => es.includes(e)).map(([id]) => id),
        readyOn: this.#registry.hostsFor(sha).map((h) => h.peerId),
        rowsRouted: this.#perExpert[e]!.routed,
        rowsChosen: this.#perExpert[e]!.chosen,
        rowsLocal: this.#perExpert[e]!.local,
      })),
      totals: { ...this.#totals, lateResults: [...this.#calls.late.values()].reduce((a, b) => a + b, 0) },
      inFlight: this.#calls.inFlight(),
    };
  }

  /** Stops routing: pending calls fail (their batches finish locally), listeners are dropped. Hosts are
   *  told to release our models. */
  close(): void {
    if (this.#closed) return;
    this.#placement.releaseAll();
    this.#closed = true;
    this.#calls.close();
    for (const off of this.#offs) off();
    this.#registry.abandon();
  }

  // ---- one batch ------------------------------------------------------------------------------------------

  async #runBatch(job: Job, e: number, positions: Int32Array, supply: CanarySupply): Promise<void> {
    const model = job.models[e]!;
    const input = job.inputsOf(e, positions);
    const rows = positions.length;
    const tried = new Set<string>();
    for (let attempt = 0; attempt < this.#o.maxRemoteAttempts; attempt++) {
      if (job.cancelled) return;
      const entry = await this.#acquire(model.sha256, tried, attempt === 0 ? 1 : 0);
      if (!entry) break;
      if (job.cancelled) {
        this.#registry.release(entry);
        return;
      }
      if (attempt > 0) this.#totals.retries++;
      tried.add(entry.peerId);
      const answer = await this.#ask(entry, model, input, rows, supply);
      if (!answer) continue;
      const verdict = await this.#verify(model, input, rows, supply, answer, tried);
      if (job.cancelled) return;
      this.#accept(job, e, positions, verdict.output, verdict.source);
      return;
    }
    if (job.cancelled) return;
    const output = await model.runLocal(input, rows);
    this.#totals.fallbackRows += rows;
    this.#totals.localRows += rows;
    if (model.expert !== null) this.#perExpert[model.expert]!.local += rows;
    this.#accept(job, e, positions, output, "local");
  }

  /** A host with a free slot for the model (its slot taken), or null when none is usable. Replicas and
   *  retries (priority 0) go before fresh batches (1). */
  #acquire(sha: string, exclude: ReadonlySet<string>, priority: 0 | 1): Promise<HostEntry | null> {
    if (this.#closed) return Promise.resolve(null);
    return this.#registry.acquire(sha, exclude, priority);
  }

  /** This tab's own host (the loopback): trusted like the requester's own runner. */
  #isSelf(peerId: string): boolean {
    return peerId === this.#o.link.selfId;
  }

  /** Sends the batch (with canaries, unless to this tab's own host) to a host; its answer without the
   *  canaries, or null when it failed or was caught (recorded either way). Releases the host's slot. */
  async #ask(
    entry: HostEntry,
    model: JobModel,
    input: Float32Array,
    rows: number,
    supply: CanarySupply,
  ): Promise<RemoteAnswer | null> {
    const cols = input.length / rows;
    const self = this.#isSelf(entry.peerId);
    const canaries = self ? [] : supply.take(this.#o.canariesPerRequest, this.#o.random);
    const mixed = mixCanaries(input, rows, cols, canaries, this.#o.random);
    entry.stats.sent(mixed.rows);
    this.#totals.canariesSent += canaries.length;
    const outcome = await this.#calls.call(
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
        this.#registry.noteTimeout(entry);
      } else if (outcome.reason === "error") {
        entry.stats.failed(outcome.code === "busy" ? "busy" : "error");
        if (outcome.code === "model-missing") entry.ready.delete(model.sha256);
        if (outcome.code === "paused" || outcome.code === "shutting-down") entry.paused = true;
      } else {
        entry.stats.failed(outcome.reason === "malformed" ? "malformed" : "closed");
      }
      this.#registry.release(entry);
      this.#emitter.emit("stats", null);
      return null;
    }
    this.#registry.release(entry);
    if (entry.banned !== null) return null; // caught while this request was out: nothing it says counts
    const tolerance = toleranceFor(entry.provider, this.#o.local.provider).tolerance;
    const { real, canaries: check } = unmixCanaries(outcome.data, model.cols, mixed, tolerance);
    if (!check.ok) {
      entry.stats.failed("canary");
      this.#punish(
        entry.peerId,
        `canary mismatch on ${model.label} (max |Δ| ${check.maxAbsDiff.toExponential(2)})`,
        rows,
      );
      return null;
    }
    // Only expert requests feed the host's latency figures (the router's scores are in expert ms/row).
    entry.stats.succeeded(mixed.rows, outcome.roundTripMs, model.expert !== null);
    model.measured(entry.peerId, mixed.rows, outcome.roundTripMs);
    return { hostId: entry.peerId, provider: entry.provider, output: real };
  }

  /** Adaptive replication: the output to accept and who it is credited to. This tab's own host is not
   *  replicated (its answer is the requester's own computation). */
  async #verify(
    model: JobModel,
    input: Float32Array,
    rows: number,
    supply: CanarySupply,
    answer: RemoteAnswer,
    tried: Set<string>,
  ): Promise<{ output: Float32Array; source: string }> {
    if (this.#isSelf(answer.hostId) || !this.#book.shouldReplicate(answer.hostId, this.#o.random))
      return { output: answer.output, source: answer.hostId };
    this.#totals.replicatedBatches++;
    let second: RemoteAnswer | null = null;
    const entry = await this.#acquire(model.sha256, tried, 0);
    if (entry) {
      tried.add(entry.peerId);
      second = await this.#ask(entry, model, input, rows, supply);
    }
    if (second) {
      if (replicasAgree(answer, second, model.cols).ok) {
        this.#book.recordValid(answer.hostId);
        if (!this.#isSelf(second.hostId)) this.#book.recordValid(second.hostId);
        return { output: answer.output, source: answer.hostId };
      }
      this.#totals.disagreements++;
    }
    // The requester decides.
    const reference = await model.runLocal(input, rows);
    this.#totals.arbitrationRows += rows;
    this.#totals.localRows += rows;
    let credited = "local";
    for (const j of adjudicate(
      second ? [answer, second] : [answer],
      reference,
      this.#o.local.provider,
      model.cols,
    )) {
      if (j.honest) {
        if (!this.#isSelf(j.hostId)) this.#book.recordValid(j.hostId);
        if (credited === "local") credited = j.hostId;
      } else {
        this.#registry.get(j.hostId)?.stats.failed("mismatch");
        this.#punish(
          j.hostId,
          `outputs differ from the requester's on ${model.label} (${j.comparison.badRows} rows)`,
          rows,
        );
      }
    }
    return { output: reference, source: credited };
  }

  #punish(peerId: string, reason: string, rows: number): void {
    this.#book.recordInvalid(peerId, Date.now());
    this.#totals.rowsDiscarded += rows;
    if (this.#registry.ban(peerId, reason)) {
      this.#totals.liarsCaught++;
      this.#emitter.emit("banned", { peerId, reason });
      this.#placement.update();
      // Everything it gave the jobs still running is discarded and recomputed here: a host that earned
      // trust and then lied must not leave unreplicated wrong rows behind.
      for (const job of this.#jobs) this.#redo(job, peerId);
    }
    this.#emitter.emit("stats", null);
  }

  #redo(job: Job, peerId: string): void {
    for (const { e, positions } of job.takeAccepted(peerId)) {
      const model = job.models[e]!;
      job.redo.push(
        model.runLocal(job.inputsOf(e, positions), positions.length).then((output) => {
          job.replace(e, positions, output, peerId);
          const n = positions.length;
          this.#totals.redoneRows += n;
          this.#totals.rowsDiscarded += n;
          this.#totals.remoteRows -= n;
          this.#totals.localRows += n;
          if (model.expert !== null) this.#perExpert[model.expert]!.local += n;
          const entry = this.#registry.get(peerId);
          if (entry) entry.stats.rowsAccepted -= n;
          this.#rowsByHost.set(peerId, (this.#rowsByHost.get(peerId) ?? 0) - n);
          this.#rowsByHost.set("local", (this.#rowsByHost.get("local") ?? 0) + n);
          this.#emitter.emit("stats", null);
        }),
      );
    }
  }

  #accept(job: Job, e: number, positions: Int32Array, output: Float32Array, source: string): void {
    job.accept(e, positions, output, source);
    if (source !== "local") {
      this.#totals.remoteRows += positions.length;
      const entry = this.#registry.get(source);
      if (entry) entry.stats.rowsAccepted += positions.length;
    }
    this.#rowsByHost.set(source, (this.#rowsByHost.get(source) ?? 0) + positions.length);
    // Banned while its answer was being verified: discarded like the rest of its work.
    if (this.#registry.get(source)?.banned != null) this.#redo(job, source);
    this.#emitter.emit("progress", job.progress());
    this.#emitter.emit("stats", null);
  }

  #timeoutFor(entry: HostEntry, rows: number): number {
    const perRow = entry.stats.ewmaMsPerRow;
    if (perRow === null) return this.#o.firstTimeoutMs;
    return Math.min(
      this.#o.maxTimeoutMs,
      Math.max(this.#o.minTimeoutMs, this.#o.timeoutFactor * perRow * rows),
    );
  }

  // ---- local computation ----------------------------------------------------------------------------------

  async #computeLocally(
    job: Job,
    e: number,
    positions: Int32Array,
    why: "fallback" | "canary",
  ): Promise<Float32Array> {
    if (positions.length === 0) return new Float32Array(0);
    const model = job.models[e]!;
    const output = await model.runLocal(job.inputsOf(e, positions), positions.length);
    if (why === "canary") this.#totals.canaryRows += positions.length;
    else this.#totals.fallbackRows += positions.length;
    this.#totals.localRows += positions.length;
    if (model.expert !== null) this.#perExpert[model.expert]!.local += positions.length;
    this.#accept(job, e, positions, output, "local");
    return output;
  }

  /** A generic job's rows computed here, in chunks (progress between them; stops when cancelled). */
  async #localChunks(job: Job, positions: Int32Array): Promise<void> {
    for (let at = 0; at < positions.length && !job.cancelled; at += this.#o.localChunkRows) {
      await this.#computeLocally(job, 0, positions.subarray(at, at + this.#o.localChunkRows), "fallback");
    }
  }

  // ---- generic models on the volunteers ----------------------------------------------------------------------

  /** Every candidate volunteer hosts the model (besides its experts) while a job on it runs. */
  #beginModel(sha: string, source: ModelSource): RunModelResult["hostFailures"][number][] {
    let entry = this.#modelJobs.get(sha);
    if (!entry) this.#modelJobs.set(sha, (entry = { jobs: 0, failures: [] }));
    entry.jobs++;
    this.#wanted.add(sha);
    this.#placement.addExtra(sha, source);
    return entry.failures;
  }

  #endModel(sha: string): void {
    const entry = this.#modelJobs.get(sha);
    if (!entry) return;
    if (--entry.jobs === 0) {
      this.#modelJobs.delete(sha);
      if (!this.#shas.includes(sha)) this.#wanted.delete(sha);
    }
    if (!this.#closed) this.#placement.removeExtra(sha);
  }

  /** Until every candidate volunteer has answered the host-request carrying the model (loaded it, or said
   *  why not) and no probe is pending, or the deadline. */
  async #waitForModelHosts(deadlineMs: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      if (signal?.aborted || this.#closed) return;
      const waiting = this.#placement.unsettled().length + this.#placement.pendingProbes().length;
      const left = deadlineMs - this.#o.nowMs();
      if (waiting === 0 || left <= 0) return;
      await Promise.race([this.#registry.nextChange(), sleep(Math.min(left, 100))]);
    }
  }

  // ---- hosts ---------------------------------------------------------------------------------------------

  #onMessage(from: string, message: XpMessage): void {
    if (this.#calls.onMessage(from, message)) return;
    if (message.kind !== "hosting") return;
    const entry = this.#registry.get(from);
    if (entry?.banned != null) return;
    for (const f of message.failed) {
      this.#modelJobs.get(f.sha256)?.failures.push({ peerId: from, code: f.code, message: f.message });
    }
    const updated = this.#registry.hosting(from, message, this.#wanted);
    // It runs an expert host: a placement candidate from now on (router-placement.ts).
    this.#placement.heard(from, message.requestId);
    // A peer announcing itself as an expert host: place experts on it too.
    if (this.#o.adoptAnnouncedHosts && message.requestId === null) this.#placement.add(from);
    this.#emitter.emit("hosting", {
      peerId: from,
      experts: this.#expertsOf(updated.ready),
      failed: message.failed,
    });
    this.#emitter.emit("stats", null);
  }

  /** Expert indices of the digests a host serves (generic models left out), ascending. */
  #expertsOf(ready: ReadonlySet<string>): number[] {
    return this.#shas.flatMap((sha, e) => (ready.has(sha) ? [e] : []));
  }

  #onPeerClosed(peerId: string): void {
    this.#calls.onPeerClosed(peerId);
    this.#registry.closed(peerId);
    this.#placement.closed(peerId);
    this.#emitter.emit("stats", null);
  }
}

/** Rejects with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}

function shaOf(source: ModelSource): string {
  return source.kind === "manifest" ? source.entry.sha256 : source.sha256;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
