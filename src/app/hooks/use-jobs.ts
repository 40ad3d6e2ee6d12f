import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { JobsState, JobsStore, VolunteerState, VolunteerStore } from "../../state/jobs/index.ts";

/** Null until the swarm job runtime is booted: the job views render only under a provider with a store. */
export const JobsStoreContext = createContext<JobsStore | null>(null);
export const VolunteerStoreContext = createContext<VolunteerStore | null>(null);

/** Reads a slice of the requester's jobs store. Selectors must return stable values (no fresh arrays). */
export function useJobs<T>(selector: (state: JobsState) => T): T {
  const store = useContext(JobsStoreContext);
  if (!store) throw new Error("useJobs needs a JobsStoreContext provider");
  return useStore(store, selector);
}

/** Reads a slice of this tab's volunteer store. */
export function useVolunteer<T>(selector: (state: VolunteerState) => T): T {
  const store = useContext(VolunteerStoreContext);
  if (!store) throw new Error("useVolunteer needs a VolunteerStoreContext provider");
  return useStore(store, selector);
}

/** Whether the job runtime is present (the app keeps working without it). */
export function useHasJobs(): boolean {
  return useContext(JobsStoreContext) !== null;
}

export function useHasVolunteer(): boolean {
  return useContext(VolunteerStoreContext) !== null;
}
