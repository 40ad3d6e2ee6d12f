import type { CsrMatrix } from "../sparse/csr.ts";
import { nnzOf } from "../sparse/csr.ts";
import { SolverError } from "./errors.ts";
import type { KernelMatrix, Kernels } from "./kernels.ts";

/** The js backend's matrix handle: the CsrMatrix itself, no copy. */
interface JsKernelMatrix extends KernelMatrix {
  readonly csr: CsrMatrix;
}

function csrOf(a: KernelMatrix): CsrMatrix {
  const csr = (a as Partial<JsKernelMatrix>).csr;
  if (csr === undefined) {
    throw new SolverError("backend_mismatch", "matrix handle was not created by the js kernels");
  }
  return csr;
}

function spmvInto(m: CsrMatrix, x: Float64Array, y: Float64Array): void {
  const { rowPtr, colIdx, values } = m;
  const n = m.rows;
  let start = rowPtr[0]!;
  for (let i = 0; i < n; i++) {
    const end = rowPtr[i + 1]!;
    let s = 0;
    for (let k = start; k < end; k++) s += values[k]! * x[colIdx[k]!]!;
    y[i] = s;
    start = end;
  }
}

/**
 * The f64 reference kernels in plain JS: one tight loop per operation over typed arrays, no allocation
 * after `vector()`. Every other backend is checked against these.
 */
export function createJsKernels(): Kernels {
  return {
    backend: "js",
    threads: 1,
    vector(n: number): Float64Array {
      return new Float64Array(n);
    },
    matrix(a: CsrMatrix): KernelMatrix {
      const handle: JsKernelMatrix = { rows: a.rows, cols: a.cols, nnz: nnzOf(a), csr: a };
      return handle;
    },
    spmv(a: KernelMatrix, x: Float64Array, y: Float64Array): void {
      spmvInto(csrOf(a), x, y);
    },
    spmvDot(a: KernelMatrix, p: Float64Array, q: Float64Array): number {
      const { rowPtr, colIdx, values, rows } = csrOf(a);
      let dot = 0;
      let start = rowPtr[0]!;
      for (let i = 0; i < rows; i++) {
        const end = rowPtr[i + 1]!;
        let s = 0;
        for (let k = start; k < end; k++) s += values[k]! * p[colIdx[k]!]!;
        q[i] = s;
        dot += s * p[i]!;
        start = end;
      }
      return dot;
    },
    dot(x: Float64Array, y: Float64Array): number {
      const n = x.length;
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i]! * y[i]!;
      return s;
    },
    axpy(alpha: number, x: Float64Array, y: Float64Array): void {
      const n = x.length;
      for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
    },
    xpby(x: Float64Array, beta: number, y: Float64Array): void {
      const n = x.length;
      for (let i = 0; i < n; i++) y[i] = x[i]! + beta * y[i]!;
    },
    cgUpdate(alpha, p, q, x, r, dinv, z, out): void {
      const n = x.length;
      let rz = 0;
      let rr = 0;
      if (dinv === null) {
        for (let i = 0; i < n; i++) {
          x[i] = x[i]! + alpha * p[i]!;
          const ri = r[i]! - alpha * q[i]!;
          r[i] = ri;
          z[i] = ri;
          rr += ri * ri;
        }
        rz = rr;
      } else {
        for (let i = 0; i < n; i++) {
          x[i] = x[i]! + alpha * p[i]!;
          const ri = r[i]! - alpha * q[i]!;
          r[i] = ri;
          const zi = dinv[i]! * ri;
          z[i] = zi;
          rz += ri * zi;
          rr += ri * ri;
        }
      }
      out[0] = rz;
      out[1] = rr;
    },
    residual(a: KernelMatrix, x: Float64Array, b: Float64Array, r: Float64Array): number {
      const { rowPtr, colIdx, values, rows } = csrOf(a);
      let rr = 0;
      let start = rowPtr[0]!;
      for (let i = 0; i < rows; i++) {
        const end = rowPtr[i + 1]!;
        let s = 0;
        for (let k = start; k < end; k++) s += values[k]! * x[colIdx[k]!]!;
        const ri = b[i]! - s;
        r[i] = ri;
        rr += ri * ri;
        start = end;
      }
      return rr;
    },
    dispose(): void {
      // Nothing to free: the js backend's vectors are ordinary garbage-collected typed arrays.
    },
  };
}
