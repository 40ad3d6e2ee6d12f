/** Swarm jobs in this tab: the requester's and the volunteer's stores, submissions, and what the views read. */
export { bootJobs } from "./boot.ts";
export type { JobsStore } from "./store.ts";
export type {
  JobSubmission,
  JobView,
  JobVolunteerView,
  JobsState,
  ResidualSeries,
  UnitView,
  VerificationStatus,
  VolunteerState,
} from "./types.ts";
export type { VolunteerStore } from "./volunteer-store.ts";
export type { FinishNoticesState } from "./finish-notices.ts";
