import { Introductions } from "../net/introductions.ts";
import type { Swarm } from "../net/swarm.ts";
import { meshJobLink, type JobLink } from "./job-link.ts";

/**
 * The JobLink of a peer in the swarm: the mesh's, and a link wanted to a peer the directory never
 * introduced (a neighbouring block holder, named by the requester) first gets that introduction
 * (net/introductions.ts), so the overlay can dial it.
 */
export function swarmJobLink(swarm: Swarm): JobLink & { readonly introductions: Introductions } {
  const link = meshJobLink(swarm.mesh);
  const introductions = new Introductions(swarm.directory);
  return {
    ...link,
    introductions,
    want(peerId, holder) {
      introductions.ask(peerId);
      link.want(peerId, holder);
    },
  };
}
