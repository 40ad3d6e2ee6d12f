import type { CsrMatrix } from "../../sparse/csr.ts";
import { nnzOf } from "../../sparse/csr.ts";
import type { KernelMatrix, Kernels } from "../kernels.ts";
import type { IterationMonitor } from "../monitor.ts";
import type { StopReason } from "../types.ts";

/**
 * Everything a method needs. `x` and `b` are backend vectors; `x` holds the initial guess on entry and the
 * iterate on return (every method starts from r = b − A x, so a warm start or a hybrid stage switch simply
 * solves for the correction). Work vectors come from numbered slots shared by all stages of one solve, so a
 * wasm backend does not accumulate vectors as the hybrid switches methods.
 */
export class MethodContext {
  readonly kernels: Kernels;
  readonly a: CsrMatrix;
  readonly ka: KernelMatrix;
  readonly b: Float64Array;
  readonly x: Float64Array;
  readonly bNorm: number;
  readonly tol: number;
  readonly monitor: IterationMonitor;
  private readonly slots: Float64Array[];

  constructor(
    kernels: Kernels,
    a: CsrMatrix,
    ka: KernelMatrix,
    b: Float64Array,
    x: Float64Array,
    tol: number,
    monitor: IterationMonitor,
    slots: Float64Array[] = [],
  ) {
    this.kernels = kernels;
    this.a = a;
    this.ka = ka;
    this.b = b;
    this.x = x;
    this.tol = tol;
    this.monitor = monitor;
    this.slots = slots;
    this.bNorm = Math.sqrt(kernels.dot(b, b));
  }

  /**
   * The same solve on a changed system (a live update): same x, b vector (whose contents the caller has
   * rewritten) and work-vector slots, new matrix; ‖b‖ is recomputed.
   */
  withSystem(a: CsrMatrix, ka: KernelMatrix): MethodContext {
    return new MethodContext(this.kernels, a, ka, this.b, this.x, this.tol, this.monitor, this.slots);
  }

  get n(): number {
    return this.a.rows;
  }

  /** Work vector number `slot` (contents undefined: initialise before use). */
  vec(slot: number): Float64Array {
    let v = this.slots[slot];
    if (v === undefined) {
      for (let s = this.slots.length; s <= slot; s++) this.slots.push(this.kernels.vector(this.n));
      v = this.slots[slot]!;
    }
    return v;
  }

  /** Bytes of the matrix as a CSR (f64 values, i32 indices) plus `vectors` work vectors. */
  memoryBytes(vectors: number, extraBytes = 0): number {
    return 12 * nnzOf(this.a) + 4 * (this.n + 1) + 8 * this.n * vectors + extraBytes;
  }

  /** True relative residual of x (one SpMV through the kernels), written to `r`. */
  trueRel(r: Float64Array): number {
    return Math.sqrt(this.kernels.residual(this.ka, this.x, this.b, r)) / this.bNorm;
  }
}

/** What a method returns: why it stopped and the label it ran under (e.g. "cg+ic0(shift=1e-3)"). */
export interface MethodOutcome {
  reason: StopReason;
  label: string;
  note?: string;
}
