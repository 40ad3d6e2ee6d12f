import { realNowMs, type NowMs } from "../../base/clock.ts";
import type { ExecutionProvider, ModelVariant } from "../../protocol/manifest.ts";
import { checkRunInput, describeModelIo, feedDims, type ModelIo, type ValueMetaLike } from "./input-shape.ts";
import { loadVerifiedModel, sourceDigest, sourceLabel, type ModelBytesDeps } from "./model-bytes.ts";
import { chooseProvider, type ProviderPreference } from "./provider-choice.ts";
import { ExpertError, type LoadedModel, type ModelSource, type RunOutput } from "./runner.ts";

/**
 * The expert worker's logic without the worker: one session per model digest, created once from verified
 * bytes on the provider the variant calls for, runs serialized per session, every input checked before the
 * runtime sees it. The runtime (onnxruntime-web in the worker; onnxruntime-node in unit tests) is injected
 * through the small SessionRuntime interface.
 */

/** One onnxruntime session, seen through what the pool needs. */
export interface RuntimeSession {
  readonly inputMetadata: readonly ValueMetaLike[];
  readonly outputMetadata: readonly ValueMetaLike[];
  run(
    inputName: string,
    data: Float32Array,
    dims: readonly number[],
  ): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

export interface SessionRuntime {
  /** Starts the runtime for `provider` (loads ORT's wasm, finds the GPU); rejects when it cannot. */
  prepare(provider: ExecutionProvider): Promise<void>;
  /** `optimization` "disabled" for models given as bytes (see SessionPool.create). `variant`: the manifest
   *  entry's (undefined for bytes), for a runtime whose optimisations differ from onnxruntime-web's on it
   *  (onnxruntime-node, node/ort-session-runtime.ts). */
  createSession(
    bytes: Uint8Array,
    provider: ExecutionProvider,
    optimization: GraphOptimization,
    variant?: ModelVariant,
  ): Promise<RuntimeSession>;
  /** Whether a WebGPU adapter exists here (asked once by the pool). */
  webgpuAvailable(): Promise<boolean>;
}

/** onnxruntime's graphOptimizationLevel, as far as the pool chooses it. */
export type GraphOptimization = "all" | "disabled";

export interface PoolLoadedModel extends LoadedModel {
  /** The provider this model's session runs on. */
  readonly provider: ExecutionProvider;
  /** Why that provider (variant, forced, fallback after a webgpu failure, ...). */
  readonly providerReason: string;
}

export interface SessionPoolOptions {
  /** "auto" picks by variant and capability; "wasm" / "webgpu" force it (webgpu falls back when absent). */
  readonly preference?: ProviderPreference;
  readonly onNote?: (note: string) => void;
  /** Times loads and runs (LoadedModel.loadMs, RunOutput.ms); default the real clock (base/clock.ts). */
  readonly nowMs?: NowMs;
}

interface Entry {
  readonly session: RuntimeSession;
  readonly io: ModelIo;
  readonly info: PoolLoadedModel;
  /** The tail of this session's run queue. */
  queue: Promise<unknown>;
}

export class SessionPool {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  private webgpu: Promise<boolean> | null = null;
  private lastProvider: ExecutionProvider = "wasm";
  private readonly nowMs: NowMs;

  constructor(
    private readonly runtime: SessionRuntime,
    private readonly bytes: ModelBytesDeps,
    private readonly options: SessionPoolOptions = {},
  ) {
    this.nowMs = options.nowMs ?? realNowMs;
  }

  /** The provider of the most recently created session ("wasm" before any). */
  get provider(): ExecutionProvider {
    return this.lastProvider;
  }

  /** Digests with an open session. */
  loaded(): string[] {
    return [...this.entries.keys()];
  }

  /** Creates the session once per digest; a second call (even with another preference) returns it. */
  async load(source: ModelSource, preference?: ProviderPreference): Promise<PoolLoadedModel> {
    const sha256 = sourceDigest(source);
    const known = this.entries.get(sha256);
    if (known) return { ...known.info, fromCache: true, loadMs: 0 };
    let pending = this.pending.get(sha256);
    if (!pending) {
      pending = this.create(source, preference ?? this.options.preference ?? "auto");
      this.pending.set(sha256, pending);
      pending.then(
        (entry) => {
          this.pending.delete(sha256);
          this.entries.set(sha256, entry);
        },
        () => this.pending.delete(sha256),
      );
      return (await pending).info;
    }
    // Someone else's load of the same digest: share its session, but this caller did not wait for bytes.
    const entry = await pending;
    return { ...entry.info, fromCache: true, loadMs: 0 };
  }

  run(sha256: string, input: Float32Array, rows: number): Promise<RunOutput> {
    const entry = this.entries.get(sha256);
    if (!entry) {
      return Promise.reject(new ExpertError("model_missing", `model ${sha256.slice(0, 12)} is not loaded`));
    }
    try {
      checkRunInput(entry.io, input, rows);
    } catch (error) {
      return Promise.reject(error);
    }
    const next = entry.queue.then(() => this.runNow(entry, input, rows));
    entry.queue = next.catch(() => undefined);
    return next;
  }

  /** Drops the session once the runs queued on it finished (the cached bytes stay). */
  async unload(sha256: string): Promise<void> {
    const entry = this.entries.get(sha256);
    if (!entry) return;
    this.entries.delete(sha256);
    await entry.queue;
    await entry.session.release().catch(() => undefined);
  }

  private async create(source: ModelSource, preference: ProviderPreference): Promise<Entry> {
    const started = this.nowMs();
    const label = sourceLabel(source);
    const entryOfManifest = source.kind === "manifest" ? source.entry : undefined;
    const webgpuAvailable = preference === "wasm" ? false : await this.webgpuAvailable();
    const choice = chooseProvider(entryOfManifest?.variant, preference, webgpuAvailable);
    let provider = choice.provider;
    let reason = choice.reason;
    // Start the runtime before touching bytes: a runtime that cannot start says nothing about the model.
    if (provider === "webgpu") {
      try {
        await this.runtime.prepare("webgpu");
      } catch (error) {
        [provider, reason] = ["wasm", `webgpu could not start (${errorText(error)}); running on wasm`];
      }
    }
    if (provider === "wasm") await this.prepare("wasm");
    // The site's models get every optimisation. Models given as bytes (an upload, or a requester's) get
    // none: constant folding runs at session creation, where a tiny graph can make onnxruntime allocate
    // gigabytes (ConstantOfShape 2^28 → ReduceSum: 2.1 GB, 6.9 s), and even "basic" folds constants. A
    // host checks such a graph's sizes first (graph/); this keeps folding from being the way around it.
    // Requester and host load the same bytes the same way, so their outputs still agree bit for bit.
    const optimization: GraphOptimization = source.kind === "bytes" ? "disabled" : "all";
    const variant = entryOfManifest?.variant;
    const verified = await loadVerifiedModel(source, this.bytes, async (bytes) => {
      let session: RuntimeSession | null = null;
      if (provider === "webgpu") {
        try {
          session = await this.runtime.createSession(bytes, "webgpu", optimization, variant);
        } catch (error) {
          // WebGPU can fail where wasm works (a missing kernel, a lost device): wasm decides about the bytes.
          [provider, reason] = ["wasm", `webgpu failed (${errorText(error)}); running on wasm`];
          await this.prepare("wasm");
        }
      }
      session ??= await this.runtime.createSession(bytes, "wasm", optimization, variant);
      try {
        return {
          session,
          io: describeModelIo(session.inputMetadata, session.outputMetadata, label, entryOfManifest),
        };
      } catch (error) {
        await session.release().catch(() => undefined);
        throw error;
      }
    });
    if (reason !== choice.reason) this.options.onNote?.(`${label}: ${reason}`);
    const { session, io } = verified.value;
    if (source.kind === "manifest") await warmUp(session, io);
    this.lastProvider = provider;
    const info: PoolLoadedModel = {
      sha256: verified.sha256,
      inputName: io.inputName,
      inputCols: io.inputCols,
      outputNames: io.outputNames,
      outputCols: io.outputCols,
      fromCache: verified.fromCache,
      loadMs: this.nowMs() - started,
      provider,
      providerReason: reason,
    };
    return { session, io, info, queue: Promise.resolve() };
  }

  private async prepare(provider: ExecutionProvider): Promise<void> {
    try {
      await this.runtime.prepare(provider);
    } catch (error) {
      throw new ExpertError(
        "unavailable",
        `onnxruntime-web (${provider}) could not start: ${errorText(error)}`,
      );
    }
  }

  private webgpuAvailable(): Promise<boolean> {
    this.webgpu ??= this.runtime.webgpuAvailable().catch(() => false);
    return this.webgpu;
  }

  private async runNow(entry: Entry, input: Float32Array, rows: number): Promise<RunOutput> {
    const started = this.nowMs();
    let results: Record<string, { data: unknown }>;
    try {
      results = await entry.session.run(entry.io.inputName, input, feedDims(entry.io, input.length, rows));
    } catch (error) {
      throw new ExpertError("runtime_failed", `onnxruntime failed: ${errorText(error)}`);
    }
    const outputs: Record<string, { data: Float32Array; cols: number }> = {};
    for (const name of entry.io.outputNames) {
      const data = toFloat32(results[name]?.data);
      if (data) outputs[name] = { data, cols: data.length / rows };
    }
    return { outputs, ms: this.nowMs() - started };
  }
}

/** Rows of the warm-up batch: four times the router's default batch (64), a batch a host really gets. */
const WARM_UP_ROWS = 256;
/** Runs of that batch (see warmUp for the measurement behind both numbers). */
const WARM_UP_RUNS = 4;

/**
 * Runs one of the site's models on real-sized batches as part of its load, so a job never pays for the
 * runtime's start. Two costs hide there. The first run compiles onnxruntime-web's kernels: ≈ 300 ms on an
 * idle core (the gate's first run, against 0.4–18 ms for the next ones). Then V8 runs that wasm on its
 * baseline compiler (Liftoff) until enough work has gone through a function to optimise it (TurboFan,
 * compiled in the background): a single one-row run never gets there. Measured with `bench:experts
 * --first-runs 3 --first-run-start warm` on an idle 2-core machine: with one one-row run, the first job of
 * fresh tabs took 2.29× (2.17–3.04) the second; after a 20-image job first it was still 1.84×; after
 * 4 × 256 rows at load, 1.39× (0.95–1.97), for ≈ 0.6 s more loading. The batch is a fixed pseudo-random
 * pattern in [-0.5, 0.5) (not zeros, which an int8 kernel may take a shortcut on). Only the site's models
 * (their cost is known and small); a model given as bytes runs only when asked. A warm-up that fails
 * changes nothing: the first real run reports the error.
 */
async function warmUp(session: RuntimeSession, io: ModelIo): Promise<void> {
  if (!(io.inputCols > 0)) return;
  const input = new Float32Array(io.inputCols * WARM_UP_ROWS);
  for (let i = 0; i < input.length; i++) input[i] = ((i * 2_654_435_761) % 1_000) / 1_000 - 0.5;
  const dims = feedDims(io, input.length, WARM_UP_ROWS);
  for (let run = 0; run < WARM_UP_RUNS; run++) {
    const ok = await session.run(io.inputName, input, dims).then(
      () => true,
      () => false,
    );
    if (!ok) return;
  }
}

/**
 * A numeric output as a Float32Array that owns its whole buffer (so it can be transferred): int64 indices
 * become plain numbers; a view into a larger (e.g. wasm) buffer is copied. Strings and the like: undefined.
 */
export function toFloat32(data: unknown): Float32Array | undefined {
  if (data instanceof Float32Array) {
    const owns = data.byteOffset === 0 && data.buffer.byteLength === data.byteLength;
    return owns && data.buffer instanceof ArrayBuffer ? data : data.slice();
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    return Float32Array.from(data, (v) => Number(v));
  }
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    return Float32Array.from(data as unknown as ArrayLike<number>);
  }
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
