import type { BackendName } from "../protocol/solver-names.ts";
import type { CsrMatrix } from "../sparse/csr.ts";

export type { BackendName } from "../protocol/solver-names.ts";

/** A matrix as a backend holds it (for wasm: copied into wasm memory; for js: the CsrMatrix itself). */
export interface KernelMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
}

/**
 * The vector/matrix kernels an iterative method needs. Methods are written once against this interface
 * and run on every CPU backend (js f64 reference, wasm f64 single- or multi-threaded).
 *
 * Vectors are Float64Arrays obtained from `vector(n)`: for wasm they are views of wasm (shared) memory,
 * so kernels can run on them without copies. A method may read/write them with plain JS loops for rare,
 * cheap steps; hot steps go through the kernels. Views stay valid until `dispose()`.
 *
 * The WebGPU backend does not implement this interface (a synchronous dot per call would force one readback
 * per iteration); it has its own fused loops, see kernels/webgpu.
 */
export interface Kernels {
  readonly backend: BackendName;
  readonly threads: number;
  vector(n: number): Float64Array;
  matrix(a: CsrMatrix): KernelMatrix;
  /** y = A x */
  spmv(a: KernelMatrix, x: Float64Array, y: Float64Array): void;
  /** q = A p, returns p·q (fused: CG's first half-iteration reads p once). */
  spmvDot(a: KernelMatrix, p: Float64Array, q: Float64Array): number;
  dot(x: Float64Array, y: Float64Array): number;
  /** y += alpha x */
  axpy(alpha: number, x: Float64Array, y: Float64Array): void;
  /** y = x + beta y */
  xpby(x: Float64Array, beta: number, y: Float64Array): void;
  /**
   * CG's fused second half-iteration: x += alpha p; r -= alpha q; z = dinv ∘ r (z = r when dinv is null);
   * returns [r·z, r·r] packed in `out` (out[0] = r·z, out[1] = r·r).
   */
  cgUpdate(
    alpha: number,
    p: Float64Array,
    q: Float64Array,
    x: Float64Array,
    r: Float64Array,
    dinv: Float64Array | null,
    z: Float64Array,
    out: Float64Array,
  ): void;
  /** r = b - A x, returns r·r */
  residual(a: KernelMatrix, x: Float64Array, b: Float64Array, r: Float64Array): number;
  dispose(): void;
}
