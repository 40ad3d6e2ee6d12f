/**
 * The numbers bench:experts reports, computed the same way everywhere: medians of repetitions, nearest-rank
 * percentiles, throughput from a count and a wall time, and ratios that stay null (never NaN or Infinity)
 * when a side is missing.
 */

/** Median of the values (mean of the two middle ones for an even count); null when there are none. */
export function median(values: readonly number[]): number | null {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile, q in [0, 1] (the same definition as the router's host stats). */
export function percentile(values: readonly number[], q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile needs q in [0, 1], got ${q}`);
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Samples per second for `samples` processed in `ms` milliseconds; null for a non-positive time. */
export function perSecond(samples: number, ms: number): number | null {
  return ms > 0 && Number.isFinite(ms) ? (samples * 1000) / ms : null;
}

/** a / b, or null when either is missing or b is not positive. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return a / b;
}

/** Rows where two prediction lists differ; a length difference counts every missing row. */
export function countMismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let diff = Math.abs(a.length - b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) diff++;
  return diff;
}

/** The value at which the cumulative weight first reaches half the total (values with weight ≤ 0 ignored). */
export function weightedMedian(values: readonly number[], weights: readonly number[]): number | null {
  if (values.length !== weights.length)
    throw new RangeError("weightedMedian: values and weights differ in length");
  const pairs = values
    .map((v, i) => [v, weights[i]!] as const)
    .filter(([v, w]) => Number.isFinite(v) && w > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = pairs.reduce((s, [, w]) => s + w, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const [v, w] of pairs) {
    seen += w;
    if (seen >= total / 2) return v;
  }
  return pairs[pairs.length - 1]![0];
}
