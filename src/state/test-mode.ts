import type { ExpertHostFault } from "../core/experts/host/index.ts";
import type { VolunteerFault } from "../core/jobs/volunteer/index.ts";
import type { installTestHook } from "./test-hook.ts";

/**
 * Set by vite.config.ts's `define` (and vitest.config.ts's): true in dev and in `npm run build:test` (the
 * build the Playwright specs and benches drive through ?test=1), false in `npm run build` (what `npm start`
 * serves and what is deployed).
 */
declare const __OPEN_SWARM_TEST_HOOKS__: boolean;

/**
 * Test mode: with `?test=1` in the page URL the page installs window.openSwarm for Playwright (test-hook.ts)
 * and accepts injected faults (test-faults.ts). Both load through a dynamic import, a chunk of their own
 * that other pages never download. In the production build (__OPEN_SWARM_TEST_HOOKS__ false) every
 * branch below is constant, the bundler drops those chunks altogether and ?test=1 does nothing.
 */
export function isTestMode(search: string): boolean {
  return __OPEN_SWARM_TEST_HOOKS__ && new URLSearchParams(search).get("test") === "1";
}

/** Loads test-hook.ts (under ?test=1 only; null otherwise). */
export function loadTestHook(search: string): Promise<typeof installTestHook> | null {
  if (!__OPEN_SWARM_TEST_HOOKS__ || !isTestMode(search)) return null;
  return import("./test-hook.ts").then((m) => m.installTestHook);
}

/**
 * `?maxLinks=N` under ?test=1: this tab's link cap (default 32), set small so a test reaches it with a
 * dozen peers. Ignored outside test mode and when it is not a positive integer.
 */
export function testMaxLinks(search: string): number | undefined {
  if (!isTestMode(search)) return undefined;
  const n = Number(new URLSearchParams(search).get("maxLinks"));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * `?qualify=0` under ?test=1: the Experts view does not send new hosts sample batches before a job
 * (router qualification.ts), so an attack test can make a liar's first answers fall inside a job, where
 * the job's own checks are what it tests. Default (and outside test mode): hosts are qualified.
 */
export function testQualifyHosts(search: string): boolean {
  return !(isTestMode(search) && new URLSearchParams(search).get("qualify") === "0");
}

/** The faults this page injects, created when the runtime they go into starts. */
export interface InjectedFaults {
  volunteer(): Promise<VolunteerFault | null>;
  expertHost(): Promise<ExpertHostFault | null>;
  /** The provider this tab's expert host falsely claims (`?xp-claim=`), or null. */
  expertHostClaim(): Promise<"webgpu" | "wasm" | null>;
}

/**
 * The faults the URL asks for (`?fault=`, `?xp-fault=`), null when it asks for none. Asked for outside test
 * mode they still load, to refuse loudly (the runtime they were meant for fails) rather than run honestly
 * while the caller believes a liar is in the swarm.
 */
export function injectedFaults(search: string): InjectedFaults | null {
  if (!__OPEN_SWARM_TEST_HOOKS__) return null;
  const params = new URLSearchParams(search);
  if (!params.has("fault") && !params.has("xp-fault") && !params.has("xp-claim")) return null;
  const testMode = isTestMode(search);
  const faults = import("./test-faults.ts");
  return {
    volunteer: async () => (await faults).volunteerFaultFrom(params, testMode),
    expertHost: async () => (await faults).hostFaultFrom(params, testMode),
    expertHostClaim: async () => (await faults).hostClaimFrom(params, testMode),
  };
}
