/**
 * Row ranges for `threads` threads, balanced by work and cut only at multiples of `block` (so per-block
 * partial sums, and therefore every result, are the same for any thread count). Work of a row prefix is
 * modelled as nonzeros + 2·rows: each row also costs its rowPtr read, its output write and loop overhead.
 * Returns i32[threads + 1]: thread t takes rows [s[t], s[t + 1]).
 */
export function rowSplits(rowPtr: Int32Array, rows: number, threads: number, block: number): Int32Array {
  const splits = new Int32Array(threads + 1);
  splits[threads] = rows;
  const work = (r: number): number => rowPtr[r]! + 2 * r;
  const total = work(rows);
  const nb = Math.ceil(rows / block);
  let b = 0;
  for (let t = 1; t < threads; t++) {
    const target = (total * t) / threads;
    while (b < nb && work(Math.min((b + 1) * block, rows)) <= target) b++;
    // Boundary b·block is at or below target; b+1 is above: take the nearer one.
    const lo = Math.min(b * block, rows);
    const hi = Math.min((b + 1) * block, rows);
    const cut = target - work(lo) <= work(hi) - target ? lo : hi;
    splits[t] = Math.max(cut, splits[t - 1]!);
  }
  return splits;
}
