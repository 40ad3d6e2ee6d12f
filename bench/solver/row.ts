/** Fields every row has: one problem × backend × thread count. Field names are the JSON output's. */
interface RowCommon {
  problem: string;
  n: number;
  nnz: number;
  symmetric: boolean;
  threads: number;
  cg_iterations: number;
  cg_converged: boolean;
  /** Certificate ‖b − A x‖/‖b‖ recomputed in f64 by independent code (src/core/solver/certificate.ts). */
  rel_residual: number;
}

/** A CPU backend (js, wasm, native Eigen): timed SpMV, triads and Jacobi-PCG in one runtime. */
export interface CpuBenchRow extends RowCommon {
  backend: "js" | "wasm" | "eigen";
  spmv_ms: number;
  /** (12·nnz + 20·n) bytes / spmv_ms. */
  spmv_gbps: number;
  /** a = b + s·c on vectors of length n (24·n bytes), same runtime and threads. */
  triad_gbps: number;
  /** The same triad on vectors long enough to move the SpMV's bytes (same cache regime as the SpMV). */
  triad_ws_gbps: number;
  /** Jacobi-PCG from x0 = 0 to ‖r‖ ≤ 1e-8·‖b‖ (recursive residual), matrix already loaded. */
  cg_ms: number;
  /** The product's solve({method: "cg", preconditioner: "jacobi"}) on the same kernels (null for eigen). */
  solve_ms: number | null;
  solve_iterations: number | null;
  solve_converged: boolean | null;
  solve_rel_residual: number | null;
}

/**
 * The WebGPU backend in Chromium: Jacobi-CG in f32 on the GPU with f64 iterative refinement on the CPU,
 * run to ‖b − Ax‖ ≤ 1e-8·‖b‖ in f64. SpMV and triads are not timed on their own (null); cg_ms is the whole
 * solve in the page (upload, refinement, readbacks), and null when the adapter is software (SwiftShader),
 * whose times say nothing about a GPU. The dispatch/readback counts are meaningful on any adapter.
 */
export interface WebGpuBenchRow extends RowCommon {
  backend: "webgpu";
  spmv_ms: null;
  spmv_gbps: null;
  triad_gbps: null;
  triad_ws_gbps: null;
  cg_ms: number | null;
  solve_ms: null;
  solve_iterations: null;
  solve_converged: null;
  solve_rel_residual: null;
  /** The GPU solver's method path, e.g. "cg+jacobi f32 + f64 refinement". */
  method: string;
  /** Why the solver stopped (converged, max_iterations, time_limit, breakdown, ...). */
  reason: string;
  /** The residual the solver itself reported (rel_residual is the one recomputed here). */
  reported_rel_residual: number;
  ms_per_iteration: number | null;
  /** Iterations encoded into command buffers (≥ cg_iterations: batches are encoded whole). */
  encoded_iterations: number;
  /** Refinement steps (f32 inner solves). */
  outer_iterations: number;
  row_blocks: number;
  dispatches: number;
  readbacks: number;
  /** Dispatches inside the iteration loop per encoded iteration (3 for unsplit CG by construction). */
  dispatches_per_iteration: number;
  /** All dispatches (setup passes and frozen batch tails included) per iteration that did work. */
  dispatches_per_useful_iteration: number;
  /** mapAsync round trips per iteration that did work. */
  readbacks_per_iteration: number;
  /** The adapter's architecture ("swiftshader" for Chromium's CPU fallback). */
  adapter: string;
  /** False on a software adapter: then only the counts mean anything. */
  timing_meaningful: boolean;
}

export type BenchRow = CpuBenchRow | WebGpuBenchRow;
