import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { ExpertsState, ExpertsStore } from "../../state/experts/index.ts";

/** Null until booted: the experts views render a notice instead of crashing without a store. */
export const ExpertsStoreContext = createContext<ExpertsStore | null>(null);

/** Reads a slice of the experts store. Selectors must return stable values (no fresh arrays). */
export function useExperts<T>(selector: (state: ExpertsState) => T): T {
  const store = useContext(ExpertsStoreContext);
  if (!store) throw new Error("useExperts needs an ExpertsStoreContext provider");
  return useStore(store, selector);
}

export function useHasExperts(): boolean {
  return useContext(ExpertsStoreContext) !== null;
}
