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

export interface RowProbe {
  row: number;
  /** b_i − (A x)_i */
  residual: number;
  /** |b_i| + Σ_j |a_ij x_j|: the size rounding can reach in this row; |residual| / scale is comparable. */
  scale: number;
}

/**
 * Residuals of a few rows only (O(entries of those rows)): a requester can check streamed or partial
 * results cheaply, with rows the volunteer did not know in advance. Out-of-range rows throw RangeError.
 */
export function rowProbe(
  a: CsrMatrix,
  x: Float64Array,
  b: Float64Array,
  rows: readonly number[],
): RowProbe[] {
  return rows.map((row) => {
    if (!Number.isInteger(row) || row < 0 || row >= a.rows) throw new RangeError(`row ${row} out of range`);
    let s = 0;
    let scale = Math.abs(b[row]!);
    for (let k = a.rowPtr[row]!; k < a.rowPtr[row + 1]!; k++) {
      const t = a.values[k]! * x[a.colIdx[k]!]!;
      s += t;
      scale += Math.abs(t);
    }
    return { row, residual: b[row]! - s, scale };
  });
}

/** `count` distinct rows chosen with the caller's uniform [0, 1) source (keep it secret from volunteers). */
export function pickProbeRows(n: number, count: number, random: () => number): number[] {
  const chosen = new Set<number>();
  const want = Math.min(n, Math.max(0, Math.floor(count)));
  while (chosen.size < want) chosen.add(Math.min(n - 1, Math.floor(random() * n)));
  return [...chosen].sort((p, q) => p - q);
}

export interface ProjectionVerdict {
  passed: boolean;
  /** Largest |(Aᵀz)·x − z·b| / (tol‖b‖) over the secret vectors (≈ ‖b − A x‖ / (tol‖b‖) for a fair x). */
  worstRatio: number;
  values: number[];
}

export interface ProjectionCheck {
  /** Number of secret vectors. */
  readonly probes: number;
  /** (Aᵀz_k)·x − z_k·b for each secret z_k: O(n) each. */
  check(x: Float64Array): number[];
  /** Accept x when every |value| ≤ slack·tol·‖b‖ + rounding allowance. */
  verify(x: Float64Array, tol: number): ProjectionVerdict;
  /** tol·‖b‖, the size of zᵀ(b − A x) for an x exactly at the tolerance (z has unit-variance entries). */
  scale(tol: number): number;
}

/**
 * Projection check zᵀ(A x − b) = (Aᵀz)·x − z·b with secret Gaussian z (drawn from the caller's random
 * source by Box–Muller). Set-up costs one pass over A per probe; each check afterwards is O(n).
 *
 * Why a volunteer cannot fake it: for a residual e = A x − b, zᵀe with z ~ N(0, I) is N(0, ‖e‖²). A volunteer
 * who does not know z cannot make e orthogonal to it; the only way to make |zᵀe| small for every z with
 * high probability is to make ‖e‖ small, i.e. to actually solve the system. Concretely, with the default
 * slack 10, a fair x at the tolerance fails with probability P(|N(0,1)| > 10) ≈ 1e-23, while an x whose
 * residual is 1000× the tolerance passes one probe with probability P(|N(0,1)| < 0.01) ≈ 0.8%, and all
 * of 4 independent probes with ≈ 4e-9. z must never leave the requester (Aᵀz is enough to forge, too).
 * The rounding allowance covers the cancellation in (Aᵀz)·x − z·b, which grows with ‖A‖‖x‖.
 */
export function createProjectionCheck(
  a: CsrMatrix,
  b: Float64Array,
  random: () => number,
  probes = 4,
  slack = 10,
): ProjectionCheck {
  const n = a.rows;
  const m = a.cols;
  let bSq = 0;
  for (let i = 0; i < n; i++) bSq += b[i]! * b[i]!;
  const bNorm = Math.sqrt(bSq);
  const gaussian = (): number => {
    let u = 0;
    while (u === 0) u = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const atz: Float64Array[] = [];
  const atzAbs: Float64Array[] = [];
  const zb: number[] = [];
  const zbAbs: number[] = [];
  for (let p = 0; p < probes; p++) {
    const w = new Float64Array(m);
    const wAbs = new Float64Array(m);
    let dot = 0;
    let dotAbs = 0;
    for (let i = 0; i < n; i++) {
      const zi = gaussian();
      dot += zi * b[i]!;
      dotAbs += Math.abs(zi * b[i]!);
      for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
        const j = a.colIdx[k]!;
        w[j] = w[j]! + a.values[k]! * zi;
        wAbs[j] = wAbs[j]! + Math.abs(a.values[k]! * zi);
      }
    }
    atz.push(w);
    atzAbs.push(wAbs);
    zb.push(dot);
    zbAbs.push(dotAbs);
  }
  const check = (x: Float64Array): number[] =>
    atz.map((w, p) => {
      let s = 0;
      for (let j = 0; j < m; j++) s += w[j]! * x[j]!;
      return s - zb[p]!;
    });
  const scale = (tol: number): number => tol * bNorm;
  return {
    probes,
    check,
    scale,
    verify(x, tol) {
      const vals = check(x);
      let worst = 0;
      let passed = vals.length > 0;
      const rootN = Math.sqrt(Math.max(n, m));
      vals.forEach((v, p) => {
        let mag = zbAbs[p]!;
        const wAbs = atzAbs[p]!;
        for (let j = 0; j < m; j++) mag += wAbs[j]! * Math.abs(x[j]!);
        // Rounding in Aᵀz and in the two dots: a few ulps of the magnitudes involved, growing like √n.
        const allowance = 4 * rootN * Number.EPSILON * mag;
        const ratio = Math.abs(v) / (tol * bNorm);
        if (!(Math.abs(v) <= slack * tol * bNorm + allowance)) passed = false;
        worst = Math.max(worst, Number.isNaN(ratio) ? Infinity : ratio);
      });
      return { passed, worstRatio: worst, values: vals };
    },
  };
}
