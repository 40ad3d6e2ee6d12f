/** The requester's scheduler: a pure state machine over jobs, units, leases and volunteers (scheduler.ts). */
export { resumeUnits } from "./resume.ts";
export type { SchedulerChanges } from "./scheduler.ts";
