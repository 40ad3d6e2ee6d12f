function median(ts: number[]): number {
  const s = [...ts].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median wall time per call of each function in its steady state, timed in interleaved blocks: `rounds`
 * rounds, in each of which every function runs `warmup` untimed calls, then its share of the `reps`
 * timed calls; each round starts one function later (f0 f1 f2, f1 f2 f0, …).
 *
 * Why blocks and not alternate calls: on these VMs a kernel whose arrays (80–100 MB) fit the L3 only
 * finds them there after several consecutive calls (measured: 6–10; the L3's replacement policy has to
 * learn that the lines are reused), and alternating two such kernels call by call keeps both at DRAM
 * speed. Repeated calls are what an iterative solver makes, and what STREAM and the native Eigen runner
 * time. Why interleaved at all: other processes share these cores and the L3, and their load drifts
 * within seconds; rounds a few hundred ms apart expose the kernel and its reference to the same drift.
 */
export function blockMedianMs(
  reps: number,
  warmup: number,
  rounds: number,
  fs: readonly (() => void)[],
): number[] {
  const k = fs.length;
  const perBlock = Math.ceil(reps / rounds);
  const ts = fs.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < k; s++) {
      const j = (r + s) % k;
      const f = fs[j]!;
      for (let i = 0; i < warmup; i++) f();
      for (let i = 0; i < perBlock; i++) {
        const t0 = performance.now();
        f();
        ts[j]!.push(performance.now() - t0);
      }
    }
  }
  return ts.map(median);
}

/**
 * Median wall time of each function, timed in alternation call by call (f0 f1, f1 f0, … after `warmup`
 * untimed rounds; each round starts one function later). When the functions' arrays together exceed
 * what the cache keeps, none finds its data left by its own previous call: the cold regime.
 */
export function alternatingMedianMs(reps: number, warmup: number, fs: readonly (() => void)[]): number[] {
  const k = fs.length;
  for (let i = 0; i < warmup; i++) for (const f of fs) f();
  const ts = fs.map((): number[] => []);
  for (let i = 0; i < reps; i++) {
    for (let s = 0; s < k; s++) {
      const j = (i + s) % k;
      const t0 = performance.now();
      fs[j]!();
      ts[j]!.push(performance.now() - t0);
    }
  }
  return ts.map(median);
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

/** Length of triad vectors that move (by STREAM's count, 24 bytes per element) `bytes` bytes. */
export function triadLengthFor(bytes: number): number {
  return Math.ceil(bytes / 24);
}

export function gbps(bytes: number, ms: number): number {
  return bytes / ms / 1e6;
}
