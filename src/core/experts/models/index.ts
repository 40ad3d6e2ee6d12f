// Models as the rest of the code sees them: the runner contract (runner.ts), where models come from (the
// site's manifest), and the session pool the expert worker runs them in.
export {
  ExpertError,
  type ExpertErrorCode,
  type LoadedModel,
  type ModelRunner,
  type ModelSource,
  type RunOutput,
} from "./runner.ts";
export { fetchManifest, manifestSource, type FetchedManifest } from "./manifest-fetch.ts";
export { manifestByDigest, manifestResolver, moeSourcesFromManifest } from "./manifest-sources.ts";
export type { ModelByteCache } from "./model-bytes.ts";
export type { ProviderPreference } from "./provider-choice.ts";
export {
  type GraphOptimization,
  SessionPool,
  type PoolLoadedModel,
  type RuntimeSession,
  type SessionRuntime,
} from "./session-pool.ts";
