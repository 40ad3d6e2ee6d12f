import { type ModelRunner, SessionPool } from "../core/experts/models/index.ts";
import { FileModelCache } from "./model-file-cache.ts";
import { NodeOrtRuntime } from "./ort-session-runtime.ts";

export interface NodeSessionRunnerOptions {
  /** Where verified model bytes are kept between runs. */
  readonly modelCacheDir: string;
  /** ORT intra-op threads per session (default 1). */
  readonly threads?: number;
}

/**
 * A Node peer's ModelRunner, host and requester alike: core's SessionPool (what a tab's expert worker runs:
 * bytes fetched by URL and checked against their sha256, graph inputs checked, the site's models warmed up
 * as they load) over onnxruntime-node, with the verified bytes cached on disk. `provider` is what the
 * sessions really run on (native CPU); display only, a requester never trusts a host's claim of it.
 */
export function nodeSessionRunner(options: NodeSessionRunnerOptions): ModelRunner {
  const pool = new SessionPool(
    new NodeOrtRuntime(options.threads ?? 1),
    { cache: new FileModelCache(options.modelCacheDir), fetch: (url, init) => fetch(url, init) },
    { preference: "wasm" },
  );
  return {
    provider: "cpu",
    load: (source) => pool.load(source),
    run: (sha256, input, rows) => pool.run(sha256, input, rows),
    unload: (sha256) => pool.unload(sha256),
  };
}
