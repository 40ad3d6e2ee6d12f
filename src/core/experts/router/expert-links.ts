import { Recruiter } from "../../net/recruiter.ts";
import type { Swarm } from "../../net/swarm.ts";
import type { ExpertRouter } from "./router.ts";

const HOSTS_HOLDER = "expert-hosts";
const CHECK_MS = 2_000;
/** The directory watch for newcomers: any peer, tab or Node (`open-swarm volunteer --experts` hosts
 *  experts too; one that does not is linked, never offered an expert since it never announces hosting, and
 *  released once unused). */
const HOST_FILTER = {} as const;

/** What the overlay reads of the requester (a tab's experts jobs, the server's expert requester). */
export interface ExpertLinksSource {
  /** Whether the requester wants expert hosts: the Experts view opened (prefetch) or a job ran. */
  readonly wantsHosts: boolean;
  readonly router: ExpertRouter | null;
}

export interface ExpertLinks {
  /** Look now (the view just opened, a job starts), not at the next periodic check. */
  check(): void;
  /** Stops the periodic check and the directory watch, and releases every link it wanted. */
  close(): void;
}

/**
 * The overlay of an expert requester (issue 12; a tab's Experts view, and the server's requester: Node and
 * the browser alike, hence in the core): peers dial on demand, so as soon as the requester wants hosts (the
 * Experts view opened, or a job ran) it recruits peers by directory query (hosts among them link and
 * announce themselves, and the router offers them experts at once: state/experts/boot.ts, peer-open), and
 * it wants the hosts its router knows and has not banned. A host the router no longer lists is released,
 * and its link closes once unused.
 *
 * Newcomers are found at once, not at the next refresh: the requester subscribes to peers joining the
 * directory and queries again when one does (measured before: a volunteer that came online after the view
 * opened was found only by the 15 s refresh, so it loaded its experts while the first job ran, or never
 * served it; bench:experts, first run).
 */
export function keepExpertLinks(swarm: Swarm, jobs: ExpertLinksSource): ExpertLinks {
  const recruiter = new Recruiter(
    {
      query: (filter, k) => swarm.directory.query(filter, k),
      want: (peerId, holder) => swarm.mesh.want(peerId, holder),
      release: (holder, peerId) => swarm.mesh.release(holder, peerId),
    },
    { holder: "expert-recruits", filter: {}, k: 16, refreshMs: 15_000 },
  );
  let hosts = new Set<string>();
  let watching = false;
  let closed = false;
  let offWatch: (() => void) | null = null;
  let subscriptionId: string | null = null;
  const watch = () => {
    watching = true;
    offWatch = swarm.directory.onWatch((change) => {
      if (change.id !== subscriptionId || change.joined.length === 0) return;
      recruiter.queryNow();
      check();
    });
    swarm.directory
      .subscribe({ kind: "filter", filter: HOST_FILTER })
      .then((subscribed) => (subscriptionId = subscribed.id))
      // No watch (refused, or no session): newcomers are found by the periodic refresh instead.
      .catch(() => undefined);
  };
  const check = () => {
    if (closed) return;
    const wants = jobs.wantsHosts;
    if (wants && !watching) watch();
    recruiter.update(wants);
    const next = new Set(
      (jobs.router?.stats().hosts ?? []).filter((host) => !host.banned).map((host) => host.peerId),
    );
    for (const peerId of next) if (!hosts.has(peerId)) swarm.mesh.want(peerId, HOSTS_HOLDER);
    for (const peerId of hosts) if (!next.has(peerId)) swarm.mesh.release(HOSTS_HOLDER, peerId);
    hosts = next;
  };
  const timer = setInterval(check, CHECK_MS);
  return {
    check,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      offWatch?.();
      if (subscriptionId !== null) swarm.directory.unsubscribe(subscriptionId);
      recruiter.update(false);
      for (const peerId of hosts) swarm.mesh.release(HOSTS_HOLDER, peerId);
      hosts = new Set();
    },
  };
}
