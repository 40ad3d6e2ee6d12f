/** The volunteer's side of swarm jobs: take a unit, solve it, report progress and the result (runtime.ts). */
export { VolunteerRuntime, residualProgress } from "./runtime.ts";
export type { VisibilitySource, VolunteerSnapshot } from "./runtime.ts";
export type { UnitSolveOutcome, UnitSolver } from "./unit-solver.ts";
export type { VolunteerFault } from "./volunteer-fault.ts";
export { UnitLog } from "./unit-log.ts";
export type { UnitLogEntry, UnitLogOutcome } from "./unit-log.ts";
export { BusyMeter } from "./busy-meter.ts";
