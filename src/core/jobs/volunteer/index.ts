/** The volunteer's side of swarm jobs: take a unit, solve it, report progress and the result (runtime.ts). */
export { BLOCK_BACKEND, VolunteerRuntime } from "./runtime.ts";
export { residualProgress } from "./held-unit.ts";
export type { VisibilitySource } from "./pause-state.ts";
export type { VolunteerSnapshot } from "./snapshot.ts";
export type { UnitSolveOutcome, UnitSolver } from "./unit-solver.ts";
export type { VolunteerFault } from "./volunteer-fault.ts";
export { UnitLog } from "./unit-log.ts";
export type { UnitLogEntry } from "./unit-log.ts";
export { BusyMeter } from "./busy-meter.ts";
