import { Recruiter } from "../../core/net/recruiter.ts";
import type { Swarm } from "../../core/net/swarm.ts";
import type { ExpertsJobs } from "./jobs.ts";

const HOSTS_HOLDER = "expert-hosts";
const CHECK_MS = 2_000;

/**
 * The overlay for the experts view (issue 12): tabs dial on demand, so once this tab has a router (a job
 * ran, or the page prefetched) it recruits peers by directory query (hosts among them link and announce
 * themselves), and it wants the hosts its router knows and has not banned. A host the router no longer
 * lists is released, and its link closes once unused.
 */
export function keepExpertLinks(win: Window, swarm: Swarm, jobs: ExpertsJobs): void {
  const recruiter = new Recruiter(
    {
      query: (filter, k) => swarm.directory.query(filter, k),
      want: (peerId, holder) => swarm.mesh.want(peerId, holder),
      release: (holder, peerId) => swarm.mesh.release(holder, peerId),
    },
    { holder: "expert-recruits", filter: {}, k: 16, refreshMs: 15_000 },
  );
  let hosts = new Set<string>();
  win.setInterval(() => {
    const router = jobs.router;
    recruiter.update(router !== null);
    const next = new Set(
      (router?.stats().hosts ?? []).filter((host) => !host.banned).map((host) => host.peerId),
    );
    for (const peerId of next) if (!hosts.has(peerId)) swarm.mesh.want(peerId, HOSTS_HOLDER);
    for (const peerId of hosts) if (!next.has(peerId)) swarm.mesh.release(HOSTS_HOLDER, peerId);
    hosts = next;
  }, CHECK_MS);
}
