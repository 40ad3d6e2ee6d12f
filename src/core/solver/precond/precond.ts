import type { CsrMatrix } from "../../sparse/csr.ts";
import { diagonal } from "../../sparse/structure.ts";

/**
 * z = M⁻¹ r for a fixed preconditioner M. Applies run in plain JS on the backend's vectors (triangular
 * solves are sequential; a Jacobi scaling is one cheap pass), so every CPU backend shares them.
 */
export interface Preconditioner {
  readonly name: string;
  /** Set-up remarks worth reporting (zero diagonals replaced, shifts, fixed pivots). */
  readonly note?: string;
  readonly flopsPerApply: number;
  readonly bytes: number;
  apply(r: Float64Array, z: Float64Array): void;
}

export const identityPreconditioner: Preconditioner = {
  name: "none",
  flopsPerApply: 0,
  bytes: 0,
  apply(r, z) {
    z.set(r);
  },
};

export interface JacobiPreconditioner extends Preconditioner {
  readonly dinv: Float64Array;
}

/**
 * Diagonal scaling M = diag(A). A zero diagonal entry gets 1 (as Eigen's DiagonalPreconditioner does) so
 * the preconditioner exists for every matrix; the note says how many rows that touched.
 */
export function jacobiPreconditioner(a: CsrMatrix): JacobiPreconditioner {
  const d = diagonal(a);
  const n = d.length;
  const dinv = new Float64Array(n);
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const di = d[i]!;
    if (di === 0) {
      dinv[i] = 1;
      zeros++;
    } else {
      dinv[i] = 1 / di;
    }
  }
  const pre: JacobiPreconditioner = {
    name: "jacobi",
    dinv,
    flopsPerApply: n,
    bytes: 8 * n,
    apply(r, z) {
      for (let i = 0; i < n; i++) z[i] = dinv[i]! * r[i]!;
    },
  };
  return zeros > 0 ? { ...pre, note: `jacobi: ${zeros} zero diagonal entries scaled by 1` } : pre;
}
