import type { ModelVariant } from "../../core/protocol/manifest.ts";
import {
  fetchManifest,
  manifestSource,
  type FetchedManifest,
} from "../../core/experts/models/manifest-fetch.ts";
import type { ModelSource } from "../../core/experts/models/runner.ts";
import { ExpertRunnerClient, type ExpertRunnerOptions } from "../../../workers/experts/client.ts";

/**
 * `window.openSwarm.experts` under ?test=1 (installed from test-hook.ts, loaded lazily so pages outside test
 * mode never download this): the expert worker as Playwright drives it.
 *
 *   const ex = window.openSwarm!.experts!;
 *   const fetched = await ex.loadManifest();                       // /models/manifest.json, validated
 *   const src = ex.source(fetched, "gate", "int8");                // ModelSource with an absolute URL
 *   const loaded = await ex.runner.load(src);                      // { provider, fromCache, inputCols, ... }
 *   const out = await ex.runner.run(loaded.sha256, new Float32Array(784 * n), n);
 *   await ex.cachedDigests(); await ex.clearCache();               // the origin's model cache
 *   const gpu = ex.createRunner({ provider: "webgpu" });           // another worker, other settings
 *
 * Errors thrown inside page.evaluate lose their class: catch them there and return { code, message }.
 */
export interface ExpertsTestHook {
  /** The page's runner (provider "auto", one thread), created on first use. */
  readonly runner: ExpertRunnerClient;
  createRunner(options?: ExpertRunnerOptions): ExpertRunnerClient;
  loadManifest(url?: string): Promise<FetchedManifest>;
  source(fetched: FetchedManifest, name: string, variant: ModelVariant): ModelSource;
  cachedDigests(): Promise<string[]>;
  clearCache(): Promise<number>;
}

declare module "../test-hook.ts" {
  interface OpenSwarmTestHook {
    /** Set shortly after the hook is installed (a lazy import). */
    readonly experts?: ExpertsTestHook;
  }
}

export const DEFAULT_MANIFEST_PATH = "/models/manifest.json";

export function installExpertsTestHook(win: Window): void {
  let runner: ExpertRunnerClient | null = null;
  const getRunner = (): ExpertRunnerClient => (runner ??= new ExpertRunnerClient());
  const experts: ExpertsTestHook = {
    get runner() {
      return getRunner();
    },
    createRunner: (options) => new ExpertRunnerClient(options),
    loadManifest: (url = DEFAULT_MANIFEST_PATH) =>
      fetchManifest(new URL(url, win.location.href).href, (u) => win.fetch(u, { cache: "no-cache" })),
    source: manifestSource,
    cachedDigests: () => getRunner().cachedDigests(),
    clearCache: () => getRunner().clearCache(),
  };
  if (!win.openSwarm) throw new Error("installExpertsTestHook: window.openSwarm is not installed");
  Object.defineProperty(win.openSwarm, "experts", { value: experts, enumerable: true });
}
