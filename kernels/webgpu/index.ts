/**
 * Open-Swarm's WebGPU solver backend: f32 Krylov/stationary iterations in WGSL with all scalars on the GPU,
 * f64 accuracy through mixed-precision iterative refinement on the CPU. See solver.ts for the entry point.
 */
export { createWebGpuSolver } from "./solver.ts";
export type { WebGpuSolveOptions, WebGpuSolveResult, WebGpuSolver } from "./solver.ts";
export type { DeviceOptions } from "./device.ts";
export { WebGpuSolverError, isWebGpuSolverError } from "./errors.ts";
export type { WebGpuSolverErrorCode } from "./errors.ts";
export type { AdapterSummary, GpuCounters, GpuLimitsUsed } from "./gpu-context.ts";
export { webgpuBenchmark } from "./benchmark.ts";
export type { WebGpuBenchmarkCase, WebGpuBenchmarkRow } from "./benchmark.ts";
