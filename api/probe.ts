import { randomInt } from "node:crypto";
import type { CsrMatrix } from "../src/core/sparse/csr.ts";

/**
 * Random-probe verification of an iterate: k rows chosen at random (by the server, after x exists, so a
 * solver cannot prepare for them) and their residuals b_i − (A x)_i computed here in f64 from A, b and x,
 * independently of the solver's own tracking. k rows cost 2·(their nnz) flops: 100 rows of a 5-point
 * stencil is 1000 flops, microseconds, while the full certificate is one SpMV.
 */
export interface ProbeResult {
  readonly probe_count: number;
  readonly rows: number[];
  /** b_i − (A x)_i for each probed row, in the order of `rows`. */
  readonly residuals: number[];
  readonly max_abs_residual: number;
  /**
   * ‖r‖/‖b‖ estimated from the probed rows alone: an estimate, exact when every row is probed.
   * A residual concentrated in a few rows makes it noisy; the final solve_result carries the certificate.
   */
  readonly estimated_relative_residual: number;
  /** Every probed residual is a finite number. */
  readonly finite: boolean;
  readonly ms: number;
}

/** `count` distinct rows of [0, n) (all of them when count ≥ n), ascending. */
export function pickRows(n: number, count: number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set<number>();
  while (picked.size < count) picked.add(randomInt(n));
  return [...picked].sort((p, q) => p - q);
}

export function probeResidual(a: CsrMatrix, b: Float64Array, x: Float64Array, count: number): ProbeResult {
  const start = performance.now();
  const rows = pickRows(a.rows, count);
  const residuals: number[] = [];
  let rr = 0;
  let bb = 0;
  let max = 0;
  let finite = true;
  for (const i of rows) {
    let ax = 0;
    for (let p = a.rowPtr[i]!; p < a.rowPtr[i + 1]!; p++) ax += a.values[p]! * x[a.colIdx[p]!]!;
    const r = b[i]! - ax;
    residuals.push(r);
    if (!Number.isFinite(r)) finite = false;
    rr += r * r;
    bb += b[i]! * b[i]!;
    max = Math.max(max, Math.abs(r));
  }
  // The same n/k scale on both sums cancels; a probe set with b = 0 on every row has no relative scale.
  const estimate = bb > 0 ? Math.sqrt(rr / bb) : rr === 0 ? 0 : Infinity;
  return {
    probe_count: rows.length,
    rows,
    residuals,
    max_abs_residual: max,
    estimated_relative_residual: estimate,
    finite,
    ms: performance.now() - start,
  };
}

/**
 * How far the probe estimate may exceed the tolerance and still pass. The estimate comes from k rows, so a
 * residual that happens to sit in the probed rows reads up to a few times larger than the full ‖r‖/‖b‖ the
 * certificate bounds; a factor of 10 passes a converged x and fails an iterate that is far from it.
 */
export const PROBE_SLACK = 10;

export interface ProbeVerdict {
  readonly passed: boolean;
  readonly threshold: number;
  readonly threshold_rule: string;
}

/** Judges a probe against the session's tolerance: finite residuals, estimate ≤ PROBE_SLACK × tolerance. */
export function judgeProbe(probe: ProbeResult, tolerance: number): ProbeVerdict {
  const threshold = PROBE_SLACK * tolerance;
  return {
    passed: probe.finite && probe.estimated_relative_residual <= threshold,
    threshold,
    threshold_rule: `passed when every probed residual is finite and estimated_relative_residual <= ${PROBE_SLACK} x the session's tolerance (${tolerance})`,
  };
}
