import type { CsrMatrix } from "../../src/core/sparse/csr.ts";

/**
 * ‖b − A x‖₂ / ‖b‖₂ in f64, written here on purpose instead of importing the product's certificate code:
 * the churn run's `wrong_results_accepted` must not trust the code it checks. NaN/Infinity count as wrong.
 */
export function independentRelResidual(a: CsrMatrix, x: Float64Array, b: Float64Array): number {
  if (x.length !== a.cols || b.length !== a.rows) return Infinity;
  let rr = 0;
  let bb = 0;
  for (let i = 0; i < a.rows; i++) {
    let ax = 0;
    for (let p = a.rowPtr[i]!; p < a.rowPtr[i + 1]!; p++) ax += a.values[p]! * x[a.colIdx[p]!]!;
    const r = b[i]! - ax;
    rr += r * r;
    bb += b[i]! * b[i]!;
  }
  const rel = bb === 0 ? Math.sqrt(rr) : Math.sqrt(rr / bb);
  return Number.isFinite(rel) ? rel : Infinity;
}
