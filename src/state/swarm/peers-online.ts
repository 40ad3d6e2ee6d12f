import type { SwarmState } from "./store.ts";

/**
 * How many peers are online, one definition for every view (the top bar and the Peers card): the other
 * tabs and volunteers online by the directory's count, NOT this tab. Counting this tab in one place and not in the other
 * made the page say "1 online" and "0" side by side.
 */
export function peersOnline(state: Pick<SwarmState, "status" | "peers" | "othersOnline">): number {
  // The directory's count (in a big swarm this tab is told about a sample of peers, not all of them).
  return state.status === "connected" ? Math.max(state.othersOnline, state.peers.length) : 0;
}

/** "0 other peers online", "1 other peer online": the words say this tab is not counted. */
export function peersOnlineText(count: number): string {
  return `${count} other peer${count === 1 ? "" : "s"} online`;
}
