import type { CsrMatrix } from "./csr.ts";
import { InputError } from "./errors.ts";

/** y = A x in plain f64 JS (the reference; solvers use their backend's kernels instead). */
export function multiply(
  a: CsrMatrix,
  x: Float64Array,
  y: Float64Array = new Float64Array(a.rows),
): Float64Array {
  if (x.length !== a.cols) {
    throw new InputError("vector_length", `x has ${x.length} entries; A has ${a.cols} columns`, {
      expected: a.cols,
      actual: x.length,
    });
  }
  const { rowPtr, colIdx, values } = a;
  for (let i = 0; i < a.rows; i++) {
    let sum = 0;
    const end = rowPtr[i + 1]!;
    for (let p = rowPtr[i]!; p < end; p++) sum += values[p]! * x[colIdx[p]!]!;
    y[i] = sum;
  }
  return y;
}

export function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}

export function norm2(x: Float64Array): number {
  // Scaled accumulation is not needed for solver residuals (values far from overflow), so keep it simple.
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

/**
 * ‖b − A x‖₂ / ‖b‖₂ computed from scratch in f64: the independent check of a solver's answer.
 * For b = 0 the relative residual is undefined; the absolute ‖A x‖₂ is returned (0 only for an exact x).
 */
export function relativeResidual(a: CsrMatrix, x: Float64Array, b: Float64Array): number {
  if (b.length !== a.rows) {
    throw new InputError("vector_length", `b has ${b.length} entries; A has ${a.rows} rows`, {
      expected: a.rows,
      actual: b.length,
    });
  }
  const ax = multiply(a, x);
  let rr = 0;
  for (let i = 0; i < ax.length; i++) {
    const r = b[i]! - ax[i]!;
    rr += r * r;
  }
  const bNorm = norm2(b);
  return bNorm === 0 ? Math.sqrt(rr) : Math.sqrt(rr) / bNorm;
}
