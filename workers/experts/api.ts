import type { ExecutionProvider } from "../../src/core/protocol/manifest.ts";
import type {
  ExpertErrorCode,
  ModelSource,
  PoolLoadedModel,
  ProviderPreference,
  RunOutput,
} from "../../src/core/experts/models/index.ts";

/**
 * The expert worker's Comlink surface. Every call answers an Outcome: ExpertError codes do not survive
 * Comlink's error serialisation, so failures travel as plain { code, message } and the main thread
 * (workers/experts/client.ts) rebuilds the ExpertError.
 */
export type Outcome<T> =
  { ok: true; value: T } | { ok: false; error: { code: ExpertErrorCode; message: string } };

export interface ExpertWorkerConfig {
  /** ORT wasm threads: 1 by default (the solver needs the cores); more only when crossOriginIsolated. */
  readonly numThreads: number;
  /** "auto" = by variant and capability. */
  readonly preference: ProviderPreference;
}

export interface ExpertWorkerInfo {
  readonly webgpuAdapter: boolean;
  /** The adapter's architecture, e.g. "swiftshader", when one exists. */
  readonly adapterArchitecture: string | null;
  readonly crossOriginIsolated: boolean;
  readonly numThreads: number;
  /** onnxruntime-web builds started in this worker. */
  readonly runtimes: readonly ExecutionProvider[];
  /** Things worth knowing that did not fail a call (a cache write that failed, a webgpu fallback). */
  readonly notes: readonly string[];
}

export interface ExpertWorkerApi {
  configure(config: ExpertWorkerConfig): Promise<void>;
  /** `source.url` must be absolute (the worker resolves nothing against the page). */
  load(source: ModelSource, preference?: ProviderPreference): Promise<Outcome<PoolLoadedModel>>;
  /** `input` may be transferred; output buffers come back transferred. */
  run(sha256: string, input: Float32Array, rows: number): Promise<Outcome<RunOutput>>;
  unload(sha256: string): Promise<void>;
  /** Digests with an open session in this worker. */
  loaded(): Promise<string[]>;
  /** Digests held in the model cache (shared by every tab and worker of the origin). */
  cachedDigests(): Promise<string[]>;
  /** Empties the model cache; answers how many entries it held. */
  clearCache(): Promise<number>;
  info(): Promise<ExpertWorkerInfo>;
}
