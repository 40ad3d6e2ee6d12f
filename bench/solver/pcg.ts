import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import type { KernelMatrix, Kernels } from "../../src/core/solver/kernels.ts";

export interface PcgResult {
  /** A copy of the iterate (plain array, independent of the backend's memory). */
  x: Float64Array;
  iterations: number;
  converged: boolean;
  reason: "converged" | "max_iterations" | "breakdown";
  /** ‖r‖/‖b‖ of the recursively updated residual at the stop (the certificate is computed elsewhere). */
  trackedRel: number;
}

/** 1/a_ii, or 1 where the diagonal is zero or missing (as Eigen's DiagonalPreconditioner does). */
export function inverseDiagonal(a: CsrMatrix, out: Float64Array): void {
  for (let i = 0; i < a.rows; i++) {
    let d = 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      if (a.colIdx[k] === i) {
        d = a.values[k]!;
        break;
      }
    }
    out[i] = d === 0 ? 1 : 1 / d;
  }
}

/**
 * Jacobi-preconditioned CG from x0 = 0, written as the kernel contract intends: per iteration one fused
 * spmvDot (q = A p, p·q), one fused cgUpdate (x, r, z and both dots in one pass) and one xpby (p = z + βp).
 * Same algorithm and stopping test as Eigen's ConjugateGradient with DiagonalPreconditioner
 * (‖r‖ ≤ tol·‖b‖ on the recursive residual), so the benchmark compares like with like. The product's
 * solve() adds a true-residual check, best-iterate tracking and streaming on top (timed separately).
 */
export function jacobiPcg(
  k: Kernels,
  a: CsrMatrix,
  ka: KernelMatrix,
  bIn: Float64Array,
  tol: number,
  maxIter: number,
): PcgResult {
  const n = a.rows;
  const [b, x, r, z, p, q, dinv] = [0, 1, 2, 3, 4, 5, 6].map(() => k.vector(n)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  b.set(bIn);
  x.fill(0);
  p.fill(0);
  q.fill(0);
  inverseDiagonal(a, dinv);
  const out = new Float64Array(2);
  const bNorm = Math.sqrt(k.dot(b, b));
  const done = (reason: PcgResult["reason"], iterations: number, rr: number): PcgResult => ({
    x: x.slice(),
    iterations,
    converged: reason === "converged",
    reason,
    trackedRel: bNorm === 0 ? 0 : Math.sqrt(rr) / bNorm,
  });
  if (bNorm === 0) return done("converged", 0, 0);
  const threshold = tol * bNorm;
  k.residual(ka, x, b, r);
  // alpha = 0 turns the fused update into z = dinv∘r with r·z, r·r (p, q are zero).
  k.cgUpdate(0, p, q, x, r, dinv, z, out);
  let rz = out[0]!;
  let rr = out[1]!;
  if (Math.sqrt(rr) <= threshold) return done("converged", 0, rr);
  k.xpby(z, 0, p);
  for (let it = 1; it <= maxIter; it++) {
    const pq = k.spmvDot(ka, p, q);
    if (pq === 0 || !Number.isFinite(pq)) return done("breakdown", it, rr);
    k.cgUpdate(rz / pq, p, q, x, r, dinv, z, out);
    rr = out[1]!;
    if (Math.sqrt(rr) <= threshold) return done("converged", it, rr);
    const rzNext = out[0]!;
    k.xpby(z, rzNext / rz, p);
    rz = rzNext;
  }
  return done("max_iterations", maxIter, rr);
}
