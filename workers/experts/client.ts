import * as Comlink from "comlink";
import type { ExpertWorkerApi, ExpertWorkerInfo, Outcome } from "./api.ts";
import type { ExecutionProvider } from "../../src/core/protocol/manifest.ts";
import type { ProviderPreference } from "../../src/core/experts/models/provider-choice.ts";
import {
  ExpertError,
  type ModelRunner,
  type ModelSource,
  type RunOutput,
} from "../../src/core/experts/models/runner.ts";
import type { PoolLoadedModel } from "../../src/core/experts/models/session-pool.ts";

export interface ExpertRunnerOptions {
  /** "auto" (default): int8 on wasm, qdq/fp32 on webgpu when an adapter exists. */
  readonly provider?: ProviderPreference;
  /** ORT threads; 1 by default so the solver keeps the other core; capped at 2, and 1 unless isolated. */
  readonly threads?: number;
}

/**
 * The main thread's ModelRunner: every call goes to the expert worker (workers/experts/expert.worker.ts)
 * through Comlink. Inputs are copied into a fresh buffer that is transferred (the caller keeps its array:
 * the router may re-send the same batch elsewhere after a failure); outputs come back transferred. Worker
 * failures arrive as { code, message } and are rethrown as ExpertError; a worker that died rejects every
 * call with ExpertError("unavailable").
 */
export class ExpertRunnerClient implements ModelRunner {
  private readonly worker: Worker;
  private readonly api: Comlink.Remote<ExpertWorkerApi>;
  private readonly died: Promise<never>;
  private readonly providers = new Map<string, ExecutionProvider>();
  private lastProvider: ExecutionProvider = "wasm";
  private disposed = false;

  constructor(options: ExpertRunnerOptions = {}) {
    this.worker = new Worker(new URL("./expert.worker.ts", import.meta.url), {
      type: "module",
      name: "open-swarm-experts",
    });
    this.api = Comlink.wrap<ExpertWorkerApi>(this.worker);
    this.died = new Promise<never>((_, reject) => {
      this.worker.addEventListener("error", (event) => {
        event.preventDefault();
        reject(
          new ExpertError("unavailable", `the expert worker failed: ${event.message || "unknown error"}`),
        );
      });
    });
    this.died.catch(() => undefined);
    const threads = Math.max(1, Math.min(2, Math.floor(options.threads ?? 1)));
    this.call(() =>
      this.api.configure({ numThreads: threads, preference: options.provider ?? "auto" }),
    ).catch(
      () => undefined, // a dead worker is reported by the next call
    );
  }

  /** The provider of the most recently loaded model ("wasm" before any); see providerOf for one model. */
  get provider(): ExecutionProvider {
    return this.lastProvider;
  }

  providerOf(sha256: string): ExecutionProvider | undefined {
    return this.providers.get(sha256);
  }

  async load(source: ModelSource, preference?: ProviderPreference): Promise<PoolLoadedModel> {
    // The worker resolves nothing against the page: hand it an absolute URL.
    const absolute =
      source.kind === "manifest"
        ? { ...source, url: new URL(source.url, globalThis.location.href).href }
        : source;
    const loaded = unwrap(
      await this.call<Outcome<PoolLoadedModel>>(() => this.api.load(absolute, preference)),
    );
    this.providers.set(loaded.sha256, loaded.provider);
    this.lastProvider = loaded.provider;
    return loaded;
  }

  async run(sha256: string, input: Float32Array, rows: number): Promise<RunOutput> {
    if (!(input instanceof Float32Array)) {
      // Checked here too: a non-Float32Array could not be copied into the transfer buffer below.
      throw new ExpertError("bad-input", `expected a Float32Array input; given ${describe(input)}`);
    }
    const copy = input.slice();
    return unwrap(
      await this.call<Outcome<RunOutput>>(() =>
        this.api.run(sha256, Comlink.transfer(copy, [copy.buffer]), rows),
      ),
    );
  }

  async unload(sha256: string): Promise<void> {
    this.providers.delete(sha256);
    await this.call(() => this.api.unload(sha256));
  }

  /** Digests whose sessions are open in the worker. */
  loaded(): Promise<string[]> {
    return this.call(() => this.api.loaded());
  }

  /** Digests in the origin's model cache (Cache API). */
  cachedDigests(): Promise<string[]> {
    return this.call(() => this.api.cachedDigests());
  }

  clearCache(): Promise<number> {
    return this.call(() => this.api.clearCache());
  }

  info(): Promise<ExpertWorkerInfo> {
    return this.call(() => this.api.info());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
  }

  private call<T>(send: () => Promise<T>): Promise<T> {
    if (this.disposed)
      return Promise.reject(new ExpertError("unavailable", "the expert runner was disposed"));
    return Promise.race([send(), this.died]);
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
