import { readPositiveInts } from "../env-ints.ts";

/** POST /api/v1/jobs (api/jobs/): where solve jobs wait for volunteers, and how many jobs a key holds. */
export interface JobSettings {
  /** A solve job waits this long for a volunteer to link (K for `distribute: K`), else the server computes it. */
  linkWaitMs: number;
  /** Jobs one owner (an API key, or "loopback") holds at once, running or kept for their TTL; more: 429. */
  maxJobsPerOwner: number;
  /** Jobs the server holds at once, every owner together; more: 503. */
  maxJobs: number;
  /** A finished job (status, results) is kept this long, then removed. */
  ttlMs: number;
  /** GET /jobs/:id/results answers at most this many numbers (x entries, logits, outputs); more: 413. */
  maxResultValues: number;
}

export const DEFAULT_JOB_SETTINGS: Readonly<JobSettings> = {
  linkWaitMs: 3_000,
  maxJobsPerOwner: 32,
  maxJobs: 512,
  ttlMs: 10 * 60_000,
  maxResultValues: 4_000_000,
};

export const JOB_ENV_VARS = {
  API_JOB_LINK_WAIT_MS: "linkWaitMs",
  API_MAX_JOBS_PER_KEY: "maxJobsPerOwner",
  API_MAX_JOBS: "maxJobs",
  API_JOB_TTL_MS: "ttlMs",
  API_MAX_RESULT_VALUES: "maxResultValues",
} as const satisfies Record<string, keyof JobSettings>;

/** The job settings from the environment; a bad value is an error naming the variable. */
export function jobSettingsFromEnv(env: NodeJS.ProcessEnv): JobSettings {
  const settings: JobSettings = { ...DEFAULT_JOB_SETTINGS };
  readPositiveInts(env, JOB_ENV_VARS, settings);
  return settings;
}
