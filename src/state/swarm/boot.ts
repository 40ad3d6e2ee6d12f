import { createEphemeralIdentity, loadOrCreateIdentity } from "../../core/identity/keystore.ts";
import { identityStoreOf, OpenSwarmDb } from "../../core/storage/db.ts";
import { ExpertHostRepository } from "../../core/storage/expert-host-repository.ts";
import { startSwarm, type Swarm } from "../../core/net/swarm.ts";
import { bootExperts, type ExpertsStore } from "../experts/index.ts";
import { bootJobs, type JobsStore, type VolunteerStore } from "../jobs/index.ts";
import { createSwarmStore, type SwarmStore } from "./store.ts";
import { injectedFaults, isTestMode, loadTestHook, testMaxLinks, testQualifyHosts } from "../test-mode.ts";

/**
 * One stored identity per browser profile, but several tabs: the directory accepts one session per peer id
 * (a second join replaces the first), so only the tab holding this Web Lock uses the stored identity;
 * others get a temporary one. The lock is released when the tab closes.
 */
async function holdIdentityLock(locks: LockManager | undefined): Promise<boolean> {
  if (!locks) return true;
  return new Promise<boolean>((resolve) => {
    locks
      .request("open-swarm:identity", { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock === null ? undefined : new Promise<void>(() => {});
      })
      .catch(() => resolve(true));
  });
}

export interface BootedSwarm {
  readonly store: SwarmStore;
  readonly ready: Promise<Swarm>;
  /** This tab's jobs (requester) and contribution (volunteer); their runtimes attach once the swarm runs. */
  readonly jobs: JobsStore;
  readonly volunteer: VolunteerStore;
  /** The mixture-of-experts view: classify jobs (requester) and the expert host (volunteer). */
  readonly experts: ExpertsStore;
}

/**
 * Creates the swarm store for this page and starts joining; under ?test=1 loads and installs
 * window.openSwarm and the faults the URL asks for (see test-mode.ts). Call once from the app's entry point.
 */
export function bootSwarm(win: Window = window): BootedSwarm {
  const testMode = isTestMode(win.location.search);
  const maxLinks = testMaxLinks(win.location.search);
  const db = new OpenSwarmDb();
  let persistentIdentity = true;
  const store = createSwarmStore({
    get persistentIdentity() {
      return persistentIdentity;
    },
    async startSwarm() {
      persistentIdentity = await holdIdentityLock(win.navigator.locks);
      const identity = persistentIdentity
        ? await loadOrCreateIdentity(identityStoreOf(db))
        : await createEphemeralIdentity();
      return startSwarm({
        origin: win.location.origin,
        identityStore: identityStoreOf(db),
        identity,
        enableDebug: testMode,
        // The overlay: a tab links with the peers it has work with (recruited volunteers, hosts, anyone
        // it waits for), not with everyone the directory lists; unused links close.
        mesh: { dialPolicy: "on-demand", ...(maxLinks !== undefined ? { maxLinks } : {}) },
      });
    },
  });
  const ready = store
    .getState()
    .actions.start()
    .then(() => {
      const swarm = store.swarm();
      if (!swarm) throw new Error(store.getState().lastError ?? "the swarm did not start");
      return swarm;
    });
  // A start error is reported in the store's lastError; this only keeps it from being an unhandled rejection
  // (whoever awaits `ready` still sees it).
  ready.catch(() => undefined);
  const faults = injectedFaults(win.location.search);
  const booted = bootJobs(win, db, ready, { fault: faults?.volunteer });
  const experts = bootExperts(win, ready, booted.volunteer, {
    fault: faults?.expertHost,
    claimProvider: faults?.expertHostClaim,
    hostRecords: new ExpertHostRepository(db),
    qualifyHosts: testQualifyHosts(win.location.search),
  });
  void loadTestHook(win.location.search)?.then((install) => install(win, store, ready, booted));
  return { store, ready, jobs: booted.jobs, volunteer: booted.volunteer, experts: experts.store };
}
