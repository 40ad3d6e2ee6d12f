import type { Swarm } from "../core/net/swarm.ts";
import { installExpertJobsTestHook } from "./experts/jobs-test-hook.ts";
import type { BootedJobs } from "./jobs/boot.ts";
import type { JobsStore } from "./jobs/store.ts";
import type { SwarmStore } from "./swarm/store.ts";
import type { VolunteerStore } from "./jobs/volunteer-store.ts";

/**
 * The test hook. With `?test=1` in the page URL, `window.openSwarm` lets Playwright drive this peer through
 * page.evaluate (one browser context per peer). test-mode.ts loads this file lazily, a chunk of its own:
 *
 *   const swarm = await window.openSwarm!.ready;                     // started: identity, directory, mesh
 *   await swarm.mesh.waitForPeer(peerId, 10_000);                    // authenticated data channel open
 *   await swarm.mesh.sendSigned(peerId, { type: "note", text });     // resolves when queued on the channel
 *   await swarm.mesh.sendBlob(peerId, bytes, { label });             // resolves when acknowledged (SHA-256)
 *   await swarm.mesh.ping(peerId);                                   // round trip in ms
 *   const env = await swarm.mesh.signEnvelope({ type: "note", text }, peerId);
 *   await swarm.mesh.debugSendRaw(peerId, { ...env, body: "tampered" });  // forged/garbage traffic (test only)
 *   window.openSwarm!.store.getState().counters                      // messagesReceived, invalidDropped, forgedRejected, ...
 *   window.openSwarm!.store.getState().peers / .recentNotes / .recentBlobs / .status / .self
 *
 * It exposes nothing secret beyond what devtools give the page's user: the private key is non-extractable,
 * and debugSendRaw only lets this tab send garbage it could send anyway. Without ?test=1 debugSendRaw refuses.
 *
 * Jobs: `window.openSwarm.jobs` / `.volunteer` are the tab's jobs and volunteer stores
 * (src/state/jobs/types.ts); `await window.openSwarm.jobsReady` waits until both runtimes run.
 *   const id = await window.openSwarm!.jobs.getState().actions.submit({ name, kind: "multi-rhs", ... });
 *   window.openSwarm!.jobs.getState().jobs / .units[id] / .volunteers
 *   window.openSwarm!.volunteer.getState().actions.pause()
 * Node-side code (e2e, bench) gets the `window.openSwarm` type with `import type {} from ".../test-hook.ts"`.
 */
export interface OpenSwarmTestHook {
  readonly store: SwarmStore;
  /** Null until started (then the same object `ready` resolves to). */
  readonly swarm: Swarm | null;
  /** Resolves once the swarm started; rejects with the start error. */
  readonly ready: Promise<Swarm>;
  readonly jobs: JobsStore;
  readonly volunteer: VolunteerStore;
  /** Resolves once the requester and volunteer runtimes run. */
  readonly jobsReady: Promise<void>;
}

declare global {
  interface Window {
    openSwarm?: OpenSwarmTestHook;
  }
}

export function installTestHook(
  win: Window,
  store: SwarmStore,
  ready: Promise<Swarm>,
  jobs: BootedJobs,
): void {
  win.openSwarm = {
    store,
    get swarm() {
      return store.swarm();
    },
    ready,
    jobs: jobs.jobs,
    volunteer: jobs.volunteer,
    jobsReady: jobs.ready,
  };
  void import("./experts/test-hook.ts").then((m) => m.installExpertsTestHook(win)); // .experts
  installExpertJobsTestHook(win); // .expertJobs (classify jobs; experts/jobs-test-hook.ts)
}
