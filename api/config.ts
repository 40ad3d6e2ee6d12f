import { readPositiveInts } from "./env-ints.ts";
import { DEFAULT_JOB_SETTINGS, jobSettingsFromEnv, type JobSettings } from "./jobs/job-config.ts";
import { apiKeysFromEnv, type ApiKey } from "./keys.ts";
import {
  DEFAULT_SWARM_SETTINGS,
  defaultSwarmDataDir,
  swarmSettingsFromEnv,
  type SwarmSettings,
} from "./swarm-config.ts";

/** The solve API's limits (env names in API_ENV_VARS; README "HTTP API" lists them). */
export interface ApiConfig {
  /** Largest JSON body, bytes. */
  maxBodyBytes: number;
  maxRows: number;
  maxNnz: number;
  /** Requests per second per client address (token bucket) and the burst. */
  requestRatePerS: number;
  requestBurst: number;
  /** Open solve streams per client address. */
  maxStreamsPerAddress: number;
  /** The same per API key (whatever address it is used from). */
  keyRequestRatePerS: number;
  keyRequestBurst: number;
  maxStreamsPerKey: number;
  /** Solves running at once (one solver thread each); more get 503 server_busy. */
  maxRunningSolves: number;
  /** Solves waiting for a thread when all maxRunningSolves are busy; past this, 503 server_busy. */
  maxQueuedSolves: number;
  /** Sessions held at once (running, or finished and kept for their TTL); more get 503. */
  maxSessions: number;
  /** A finished session (status, x, verify, replay) is kept this long, then removed. */
  sessionTtlMs: number;
  /** A running solve is stopped (reason time_limit) after this long. */
  maxSolveMs: number;
  /** Events kept per session for Last-Event-ID replay. */
  replayEvents: number;
  /** Above this n, solve_result links to GET /api/v1/sessions/:id/x instead of carrying x. */
  xInlineMax: number;
  /** Iteration updates are posted by the solver thread at most this often. */
  minUpdateMs: number;
  /** The API keys (keys.ts); none: the API answers callers on this machine only. */
  keys: readonly ApiKey[];
  /** On SIGTERM, running streams get this long to finish before they are ended (drain.ts). */
  drainMs: number;
  /** Load one solver thread at mount, so the first session's first update is not delayed by it. */
  warm: boolean;
  /** The server's swarm requester: hand sessions to volunteers (api/swarm-config.ts). */
  swarm: SwarmSettings;
  /** POST /api/v1/jobs: volunteer wait, jobs per key, TTL, results cap (api/jobs/job-config.ts). */
  jobs: JobSettings;
}

export const DEFAULT_API_CONFIG: Readonly<ApiConfig> = {
  maxBodyBytes: 32 * 1024 * 1024,
  maxRows: 1_000_000,
  maxNnz: 10_000_000,
  requestRatePerS: 10,
  requestBurst: 40,
  maxStreamsPerAddress: 4,
  keyRequestRatePerS: 10,
  keyRequestBurst: 40,
  maxStreamsPerKey: 4,
  maxRunningSolves: 4,
  maxQueuedSolves: 128,
  maxSessions: 256,
  sessionTtlMs: 10 * 60_000,
  maxSolveMs: 10 * 60_000,
  replayEvents: 512,
  xInlineMax: 10_000,
  minUpdateMs: 20,
  keys: [],
  drainMs: 30_000,
  warm: true,
  swarm: { ...DEFAULT_SWARM_SETTINGS, dataDir: defaultSwarmDataDir() },
  jobs: { ...DEFAULT_JOB_SETTINGS },
};

export const API_ENV_VARS = {
  API_MAX_BODY_BYTES: "maxBodyBytes",
  API_MAX_ROWS: "maxRows",
  API_MAX_NNZ: "maxNnz",
  API_REQUEST_RATE_PER_S: "requestRatePerS",
  API_REQUEST_BURST: "requestBurst",
  API_MAX_STREAMS_PER_ADDRESS: "maxStreamsPerAddress",
  API_KEY_REQUEST_RATE_PER_S: "keyRequestRatePerS",
  API_KEY_REQUEST_BURST: "keyRequestBurst",
  API_MAX_STREAMS_PER_KEY: "maxStreamsPerKey",
  API_MAX_QUEUED_SOLVES: "maxQueuedSolves",
  API_MAX_RUNNING_SOLVES: "maxRunningSolves",
  API_MAX_SESSIONS: "maxSessions",
  API_SESSION_TTL_MS: "sessionTtlMs",
  API_MAX_SOLVE_MS: "maxSolveMs",
  API_REPLAY_EVENTS: "replayEvents",
  API_X_INLINE_MAX: "xInlineMax",
  API_DRAIN_MS: "drainMs",
} as const satisfies Record<string, keyof ApiConfig>;

/** The API's config from the environment; a bad value (or key entry) is an error that names it. */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv): ApiConfig {
  const config: ApiConfig = { ...DEFAULT_API_CONFIG };
  readPositiveInts(env, API_ENV_VARS, config);
  if (env["API_ALLOW_REMOTE"] !== undefined) {
    // Anonymous remote solves are gone: a remote caller is a key holder now (say so, not silently ignore).
    throw new Error("API_ALLOW_REMOTE is no longer read: give remote callers keys with OPEN_SWARM_API_KEYS");
  }
  config.keys = apiKeysFromEnv(env);
  config.swarm = swarmSettingsFromEnv(env);
  config.jobs = jobSettingsFromEnv(env);
  return config;
}
