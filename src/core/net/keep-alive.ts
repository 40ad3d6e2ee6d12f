import type { PeerLink } from "./peer-link.ts";

/**
 * One tick of link upkeep: each link sweeps its stale partial messages; an open link that received nothing
 * for `idleTimeoutMs` is closed (the peer is gone or frozen), every other open link is pinged, which also
 * keeps its round-trip time current.
 */
export function keepAlive(
  links: readonly PeerLink[],
  nowMs: number,
  idleTimeoutMs: number,
  ping: (peerId: string) => void,
): void {
  for (const link of links) {
    link.sweep();
    if (link.state !== "open") continue;
    if (nowMs - link.lastReceivedAtMs > idleTimeoutMs) {
      link.close(`no traffic for ${nowMs - link.lastReceivedAtMs} ms`);
      continue;
    }
    ping(link.peerId);
  }
}
