import * as Comlink from "comlink";
import type { ExpertWorkerApi, ExpertWorkerConfig, ExpertWorkerInfo, Outcome } from "./api.ts";
import { abortable } from "../abortable.ts";
import type { ExecutionProvider } from "../../src/core/protocol/manifest.ts";
import {
  ExpertError,
  type ModelRunner,
  type ModelSource,
  type PoolLoadedModel,
  type ProviderPreference,
  type RunOutput,
} from "../../src/core/experts/models/index.ts";

export interface ExpertRunnerOptions {
  /** "auto" (default): int8 on wasm, qdq/fp32 on webgpu when an adapter exists. */
  readonly provider?: ProviderPreference;
  /** ORT threads; 1 by default so the solver keeps the other core; capped at 2, and 1 unless isolated. */
  readonly threads?: number;
}

/** What every call may take besides its arguments. */
export interface ExpertCallOptions {
  /** Aborting rejects the call at once (see ExpertRunnerClient). */
  readonly signal?: AbortSignal;
}

/**
 * How long an aborted call's worker may stay busy before it is terminated. ORT cannot be interrupted, and a
 * terminated worker loses its sessions (the next call starts a fresh one, the models load again from the
 * cache), so a run that ends soon is left to end.
 */
const ABORT_GRACE_MS = 1_000;

/** One expert worker and what the client needs of it. */
interface ExpertWorker {
  readonly worker: Worker;
  readonly api: Comlink.Remote<ExpertWorkerApi>;
  /** Rejects once the worker failed or was terminated: a call to a dead worker would never settle. */
  readonly ended: Promise<never>;
  end(reason: ExpertError): void;
}

function startExpertWorker(config: ExpertWorkerConfig): ExpertWorker {
  const worker = new Worker(new URL("./expert.worker.ts", import.meta.url), {
    type: "module",
    name: "open-swarm-experts",
  });
  const api = Comlink.wrap<ExpertWorkerApi>(worker);
  let end: (reason: ExpertError) => void = () => undefined;
  const ended = new Promise<never>((_, reject) => (end = reject));
  ended.catch(() => undefined);
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    end(new ExpertError("unavailable", `the expert worker failed: ${event.message || "unknown error"}`));
  });
  void Promise.race([api.configure(config), ended]).catch(
    () => undefined, // a dead worker is reported by the next call
  );
  return { worker, api, ended, end };
}

/**
 * The main thread's ModelRunner: every call goes to the expert worker (workers/experts/expert.worker.ts)
 * through Comlink. Inputs are copied into a fresh buffer that is transferred (the caller keeps its array:
 * the router may re-send the same batch elsewhere after a failure); outputs come back transferred. Worker
 * failures arrive as { code, message } and are rethrown as ExpertError; a worker that died rejects every
 * call with ExpertError("unavailable").
 *
 * Every call takes an optional signal (workers/abortable.ts). The worker has no way to stop a call, so an
 * abort rejects it at once with a WorkerAbortError; a worker still busy with it after ABORT_GRACE_MS is
 * terminated (calls still waiting on it reject with ExpertError("unavailable")), and the next call starts
 * a fresh one (its models must be loaded again).
 */
export class ExpertRunnerClient implements ModelRunner {
  private readonly config: ExpertWorkerConfig;
  private current: ExpertWorker | null;
  private readonly providers = new Map<string, ExecutionProvider>();
  private lastProvider: ExecutionProvider = "wasm";
  private disposed = false;

  constructor(options: ExpertRunnerOptions = {}) {
    const threads = Math.max(1, Math.min(2, Math.floor(options.threads ?? 1)));
    this.config = { numThreads: threads, preference: options.provider ?? "auto" };
    this.current = startExpertWorker(this.config);
  }

  /** The provider of the most recently loaded model ("wasm" before any); see providerOf for one model. */
  get provider(): ExecutionProvider {
    return this.lastProvider;
  }

  providerOf(sha256: string): ExecutionProvider | undefined {
    return this.providers.get(sha256);
  }

  async load(
    source: ModelSource,
    preference?: ProviderPreference,
    options?: ExpertCallOptions,
  ): Promise<PoolLoadedModel> {
    // The worker resolves nothing against the page: hand it an absolute URL.
    const absolute =
      source.kind === "manifest"
        ? { ...source, url: new URL(source.url, globalThis.location.href).href }
        : source;
    const loaded = unwrap(
      await this.call<Outcome<PoolLoadedModel>>((api) => api.load(absolute, preference), options),
    );
    this.providers.set(loaded.sha256, loaded.provider);
    this.lastProvider = loaded.provider;
    return loaded;
  }

  async run(
    sha256: string,
    input: Float32Array,
    rows: number,
    options?: ExpertCallOptions,
  ): Promise<RunOutput> {
    if (!(input instanceof Float32Array)) {
      // Checked here too: a non-Float32Array could not be copied into the transfer buffer below.
      throw new ExpertError("bad_input", `expected a Float32Array input; given ${describe(input)}`);
    }
    const copy = input.slice();
    return unwrap(
      await this.call<Outcome<RunOutput>>(
        (api) => api.run(sha256, Comlink.transfer(copy, [copy.buffer]), rows),
        options,
      ),
    );
  }

  async unload(sha256: string, options?: ExpertCallOptions): Promise<void> {
    this.providers.delete(sha256);
    await this.call((api) => api.unload(sha256), options);
  }

  /** Digests whose sessions are open in the worker. */
  loaded(options?: ExpertCallOptions): Promise<string[]> {
    return this.call((api) => api.loaded(), options);
  }

  /** Digests in the origin's model cache (Cache API). */
  cachedDigests(options?: ExpertCallOptions): Promise<string[]> {
    return this.call((api) => api.cachedDigests(), options);
  }

  clearCache(options?: ExpertCallOptions): Promise<number> {
    return this.call((api) => api.clearCache(), options);
  }

  info(options?: ExpertCallOptions): Promise<ExpertWorkerInfo> {
    return this.call((api) => api.info(), options);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.terminate(this.current);
  }

  /** Ends `target` if it is still this client's worker; its sessions go with it. */
  private terminate(target: ExpertWorker | null): void {
    if (target === null || target !== this.current) return;
    target.api[Comlink.releaseProxy]();
    target.worker.terminate();
    target.end(new ExpertError("unavailable", "the expert worker was stopped"));
    this.current = null;
    this.providers.clear();
  }

  private call<T>(
    send: (api: Comlink.Remote<ExpertWorkerApi>) => Promise<T>,
    options?: ExpertCallOptions,
  ): Promise<T> {
    if (this.disposed)
      return Promise.reject(new ExpertError("unavailable", "the expert runner was disposed"));
    const target = (this.current ??= startExpertWorker(this.config));
    return abortable(options?.signal, () => Promise.race([send(target.api), target.ended]), {
      graceMs: ABORT_GRACE_MS,
      terminate: () => this.terminate(target),
      message: "aborted; the expert call's answer is dropped",
    });
  }
}

function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new ExpertError(outcome.error.code, outcome.error.message);
}

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return String(value === null ? "null" : typeof value);
  return (value as { constructor?: { name?: string } }).constructor?.name ?? "an object";
}
