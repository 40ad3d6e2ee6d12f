/** The requester's side of swarm jobs: submit, hand out, verify, keep and resume (runtime.ts). */
export { RequesterRuntime } from "./runtime.ts";
export type { ResidualSeries, SubmitInput } from "./runtime.ts";
export type { JobExport } from "./job-export.ts";
export { swarmVolunteers, volunteerRecruiter } from "./swarm-volunteers.ts";
