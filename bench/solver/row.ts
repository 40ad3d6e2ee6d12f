/** One benchmark row: one problem × backend × thread count. Field names are the JSON output's. */
export interface BenchRow {
  problem: string;
  n: number;
  nnz: number;
  symmetric: boolean;
  backend: "js" | "wasm" | "eigen";
  threads: number;
  spmv_ms: number;
  /** (12·nnz + 20·n) bytes / spmv_ms. */
  spmv_gbps: number;
  /** a = b + s·c on vectors of length n (24·n bytes), same runtime and threads. */
  triad_gbps: number;
  /** The same triad on vectors long enough to move the SpMV's bytes (same cache regime as the SpMV). */
  triad_ws_gbps: number;
  /** Jacobi-PCG from x0 = 0 to ‖r‖ ≤ 1e-8·‖b‖ (recursive residual), matrix already loaded. */
  cg_ms: number;
  cg_iterations: number;
  cg_converged: boolean;
  /** Certificate ‖b − A x‖/‖b‖ recomputed in f64 by independent code (src/core/solver/certificate.ts). */
  rel_residual: number;
  /** The product's solve({method: "cg", preconditioner: "jacobi"}) on the same kernels (null for eigen). */
  solve_ms: number | null;
  solve_iterations: number | null;
  solve_converged: boolean | null;
  solve_rel_residual: number | null;
}
