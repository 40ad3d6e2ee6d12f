import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { SwarmState, SwarmStore } from "../../state/swarm/index.ts";

export const SwarmStoreContext = createContext<SwarmStore | null>(null);

/** Reads a slice of the swarm store; components re-render only when their slice changes. */
export function useSwarm<T>(selector: (state: SwarmState) => T): T {
  const store = useContext(SwarmStoreContext);
  if (!store) throw new Error("useSwarm needs a SwarmStoreContext provider");
  return useStore(store, selector);
}
