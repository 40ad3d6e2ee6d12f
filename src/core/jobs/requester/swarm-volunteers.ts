import { Recruiter } from "../../net/recruiter.ts";
import type { Swarm } from "../../net/swarm.ts";
import { volunteerCapabilitiesFrom, type VolunteerInfo } from "../model.ts";

/**
 * The volunteers a requester may place units on: connected peers (an open authenticated link) with what
 * they announced to the directory, plus this peer when it volunteers too (a tab does; a headless Node
 * requester does not run a volunteer).
 */
export function swarmVolunteers(swarm: Swarm, includeSelf: boolean): VolunteerInfo[] {
  const connected = new Set(swarm.mesh.connectedPeerIds());
  const list: VolunteerInfo[] = includeSelf
    ? [{ peerId: swarm.identity.peerId, capabilities: volunteerCapabilitiesFrom(swarm.capabilities) }]
    : [];
  for (const peer of swarm.directory.peers) {
    // A requester-only peer linked for another reason (it asked us for work) is no candidate.
    if (connected.has(peer.peerId) && peer.capabilities.volunteer !== false) {
      list.push({ peerId: peer.peerId, capabilities: volunteerCapabilitiesFrom(peer.capabilities) });
    }
  }
  return list;
}

/**
 * Volunteers a requester wants while it has a running job: `k` (default 16) from the directory, refreshed
 * every 15 s. A requester that needs more at once (a distributed solve over more blocks) asks for more.
 */
export function volunteerRecruiter(swarm: Swarm, k = 16): Recruiter {
  return new Recruiter(
    {
      query: (filter, k) => swarm.directory.query(filter, k),
      want: (peerId, holder) => swarm.mesh.want(peerId, holder),
      release: (holder, peerId) => swarm.mesh.release(holder, peerId),
    },
    { holder: "jobs", filter: { volunteers: true }, k, refreshMs: 15_000 },
  );
}
