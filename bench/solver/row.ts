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
  /**
   * The reference: STREAM triad a = b + s·c in the same runtime and threads, on vectors of length
   * triad_length, sized so that it moves the SpMV's effective bytes (24·triad_length ≈ 12·nnz + 20·n):
   * the same working set, so the same cache level. Like spmv_ms, timed in steady state (repeated calls)
   * in blocks interleaved with the SpMV's (bench/solver/timing.ts blockMedianMs).
   */
  triad_gbps: number;
  /** The same triad on n-length vectors (24·n bytes): a smaller working set than the SpMV's. */
  triad_small_gbps: number;
  /** Length of the reference triad's vectors. */
  triad_length: number;
  /** SpMV and reference triad called alternately, one call each (neither finds its arrays left in cache
   *  by its own previous call when both do not fit together); null where not measured (eigen). */
  spmv_alternating_gbps: number | null;
  triad_alternating_gbps: number | null;
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
  triad_small_gbps: null;
  triad_length: null;
  spmv_alternating_gbps: null;
  triad_alternating_gbps: null;
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
