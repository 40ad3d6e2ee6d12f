/** Median wall time of `reps` calls after `warmup` untimed calls (warm-up also lets V8 tier wasm up). */
export function medianMs(reps: number, warmup: number, f: () => void): number {
  for (let i = 0; i < warmup; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  const mid = ts.length >> 1;
  return ts.length % 2 === 1 ? ts[mid]! : (ts[mid - 1]! + ts[mid]!) / 2;
}

/** STREAM triad in plain JS: the js backend's bandwidth yardstick. */
export function jsTriad(a: Float64Array, b: Float64Array, s: number, c: Float64Array): void {
  const n = a.length;
  for (let i = 0; i < n; i++) a[i] = b[i]! + s * c[i]!;
}

/** Effective bytes of one CSR SpMV with f64 values and i32 indices: values + colIdx + rowPtr + x + y. */
export function spmvBytes(n: number, nnz: number): number {
  return 12 * nnz + 20 * n;
}

export function gbps(bytes: number, ms: number): number {
  return bytes / ms / 1e6;
}
