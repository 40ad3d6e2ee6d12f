import { homedir, tmpdir } from "node:os";
import path from "node:path";

/** The server's swarm requester (api/swarm-requester.ts): whether it runs, where it keeps its identity. */
export interface SwarmSettings {
  /** Hand sessions to volunteers when any are online (API_SWARM=0 turns the requester off). */
  enabled: boolean;
  /** The requester's identity file and job files live here (API_SWARM_DATA_DIR). */
  dataDir: string;
  /** Joining the swarm may take this long before the session computes on the server instead. */
  joinTimeoutMs: number;
  /** A volunteer the directory lists must be linked within this long, or the session stays on the server. */
  linkWaitMs: number;
  /** A unit that no volunteer holds (it left, was banned for a wrong result, its lease ran out) this long
   *  is taken back and computed on the server. */
  unheldFallbackMs: number;
  /** After a failed join, the next session tries again only after this long (the server keeps working). */
  rejoinAfterMs: number;
}

/**
 * The default data dir: $XDG_STATE_HOME/open-swarm/api-requester (~/.local/state/... without it), or the
 * temp dir when there is no home (a container user): the identity only has to outlive one process.
 */
export function defaultSwarmDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env["XDG_STATE_HOME"];
  let home: string;
  try {
    home = homedir();
  } catch {
    home = "";
  }
  const base = xdg ? xdg : home ? path.join(home, ".local", "state") : tmpdir();
  return path.join(base, "open-swarm", "api-requester");
}

export const DEFAULT_SWARM_SETTINGS: Readonly<Omit<SwarmSettings, "dataDir">> = {
  enabled: true,
  joinTimeoutMs: 15_000,
  linkWaitMs: 10_000,
  unheldFallbackMs: 5_000,
  rejoinAfterMs: 30_000,
};

/** API_SWARM (0/false: off) and API_SWARM_DATA_DIR; a bad value is an error naming the variable. */
export function swarmSettingsFromEnv(env: NodeJS.ProcessEnv): SwarmSettings {
  const raw = env["API_SWARM"];
  if (raw !== undefined && raw !== "" && !["0", "1", "true", "false"].includes(raw)) {
    throw new Error(`API_SWARM must be 0, 1, true or false, got "${raw}"`);
  }
  return {
    ...DEFAULT_SWARM_SETTINGS,
    enabled: raw === undefined || raw === "" || raw === "1" || raw === "true",
    dataDir: env["API_SWARM_DATA_DIR"] || defaultSwarmDataDir(env),
  };
}
