import type { CsrMatrix } from "../sparse/csr.ts";

/**
 * Verification of a claimed solution x of A x = b, in f64, with its own loops: nothing here goes through
 * the Kernels a (possibly remote, possibly dishonest) backend implements.
 */

/**
 * ‖b − A x‖₂ / ‖b‖₂ (when b = 0: the absolute ‖A x‖₂, so x = 0 scores 0). One SpMV. The sums use
 * scaling by the running maximum (as LAPACK's dnrm2) so huge or tiny entries neither overflow nor underflow.
 */
export function relativeResidual(a: CsrMatrix, x: Float64Array, b: Float64Array): number {
  const { rowPtr, colIdx, values, rows } = a;
  let rScale = 0;
  let rSsq = 1;
  let bScale = 0;
  let bSsq = 1;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) s += values[k]! * x[colIdx[k]!]!;
    const bi = b[i]!;
    const ri = Math.abs(bi - s);
    if (!Number.isFinite(ri)) return ri; // NaN or Infinity: no certificate
    if (ri > 0) {
      if (rScale < ri) {
        rSsq = 1 + rSsq * (rScale / ri) * (rScale / ri);
        rScale = ri;
      } else rSsq += (ri / rScale) * (ri / rScale);
    }
    const ab = Math.abs(bi);
    if (ab > 0) {
      if (bScale < ab) {
        bSsq = 1 + bSsq * (bScale / ab) * (bScale / ab);
        bScale = ab;
      } else bSsq += (ab / bScale) * (ab / bScale);
    }
  }
  const rNorm = rScale * Math.sqrt(rSsq);
  const bNorm = bScale * Math.sqrt(bSsq);
  return bNorm === 0 ? rNorm : rNorm / bNorm;
}
