/** The tab's peer: boots identity, directory, mesh and the runtimes (boot.ts), and the store the views read (store.ts). */
export { bootSwarm } from "./boot.ts";
export { peersOnline, peersOnlineText } from "./peers-online.ts";
export type { SwarmState, SwarmStore } from "./store.ts";
