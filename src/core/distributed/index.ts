/** Distributed solve of one large system across K workers: see README.md in this folder. */
export { Coordinator } from "./coordinator.ts";
export type {
  Blame,
  DistributedOptions,
  DistributedResult,
  DistributedStopReason,
  HaloRouting,
  Outgoing,
} from "./coordinator-types.ts";
export type { Checkpoint } from "./checkpoint.ts";
export { createBlockWorker } from "./worker.ts";
export type { BlockWorker } from "./worker.ts";
export { runDistributedInProcess } from "./in-process.ts";
export type { FailureRecord, FaultPlan, InProcessOptions, InProcessRun } from "./in-process.ts";
export { benchmarkDistributed } from "./benchmark.ts";
export type { BenchmarkOptions, DistributedBenchmark } from "./benchmark.ts";
export * from "../protocol/distributed.ts";
export { TrafficMeter, ITERATION_KINDS } from "./traffic.ts";
export type { TrafficCount, TrafficKind } from "./traffic.ts";
export { inThreadBlockHost } from "./block-host.ts";
export type { BlockHost, BlockHostFactory } from "./block-host.ts";
