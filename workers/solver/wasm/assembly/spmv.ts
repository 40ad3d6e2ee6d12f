// CSR sparse matrix-vector kernels on a row range [start, end). rowPtr and colIdx are i32, values and
// vectors f64. SpMV is gather-bound (x[colIdx[k]] has no SIMD gather in wasm), so the row loop is written
// for few instructions per nonzero: pointers walk values/colIdx, rowPtr is read once per row, and two
// accumulators per row break the add dependency chain. Each row's sum is formed in a fixed order.

/** Σ_k vals[k]·x[cols[k]] for k in [k0, k1) (byte pointers pv = vals + 8·k0, pc = cols + 4·k0). */
@inline function rowDot(pv: usize, pc: usize, n: usize, x: usize): f64 {
  let s0: f64 = 0;
  let s1: f64 = 0;
  const stopC = pc + (n << 2);
  while (pc + 16 <= stopC) {
    s0 += load<f64>(pv) * load<f64>(x + (<usize>load<i32>(pc) << 3));
    s1 += load<f64>(pv, 8) * load<f64>(x + (<usize>load<i32>(pc, 4) << 3));
    s0 += load<f64>(pv, 16) * load<f64>(x + (<usize>load<i32>(pc, 8) << 3));
    s1 += load<f64>(pv, 24) * load<f64>(x + (<usize>load<i32>(pc, 12) << 3));
    pv += 32;
    pc += 16;
  }
  while (pc < stopC) {
    s0 += load<f64>(pv) * load<f64>(x + (<usize>load<i32>(pc) << 3));
    pv += 8;
    pc += 4;
  }
  return s0 + s1;
}

/** y[i] = (A x)[i] for rows [start, end). */
export function spmvRange(rowPtr: usize, cols: usize, vals: usize, x: usize, y: usize, start: i32, end: i32): void {
  let pr = rowPtr + (<usize>start << 2);
  const stop = rowPtr + (<usize>end << 2);
  let k0 = <usize>load<i32>(pr);
  let py = y + (<usize>start << 3);
  while (pr < stop) {
    const k1 = <usize>load<i32>(pr, 4);
    store<f64>(py, rowDot(vals + (k0 << 3), cols + (k0 << 2), k1 - k0, x));
    k0 = k1;
    pr += 4;
    py += 8;
  }
}

/** q[i] = (A p)[i] for rows [start, end); returns Σ p[i]·q[i] over those rows. */
export function spmvDotRange(rowPtr: usize, cols: usize, vals: usize, p: usize, q: usize, start: i32, end: i32): f64 {
  let pr = rowPtr + (<usize>start << 2);
  const stop = rowPtr + (<usize>end << 2);
  let k0 = <usize>load<i32>(pr);
  const off = <usize>start << 3;
  let pq = q + off;
  let pp = p + off;
  let d0: f64 = 0;
  let d1: f64 = 0;
  // Two rows per step so the two dot accumulators alternate (independent add chains).
  while (pr + 8 <= stop) {
    const k1 = <usize>load<i32>(pr, 4);
    const k2 = <usize>load<i32>(pr, 8);
    const a = rowDot(vals + (k0 << 3), cols + (k0 << 2), k1 - k0, p);
    const b = rowDot(vals + (k1 << 3), cols + (k1 << 2), k2 - k1, p);
    store<f64>(pq, a);
    store<f64>(pq, b, 8);
    d0 += load<f64>(pp) * a;
    d1 += load<f64>(pp, 8) * b;
    k0 = k2;
    pr += 8;
    pq += 16;
    pp += 16;
  }
  if (pr < stop) {
    const k1 = <usize>load<i32>(pr, 4);
    const a = rowDot(vals + (k0 << 3), cols + (k0 << 2), k1 - k0, p);
    store<f64>(pq, a);
    d0 += load<f64>(pp) * a;
  }
  return d0 + d1;
}

/** r[i] = b[i] − (A x)[i] for rows [start, end); returns Σ r[i]² over those rows. */
export function residualRange(
  rowPtr: usize,
  cols: usize,
  vals: usize,
  x: usize,
  b: usize,
  r: usize,
  start: i32,
  end: i32,
): f64 {
  let pr = rowPtr + (<usize>start << 2);
  const stop = rowPtr + (<usize>end << 2);
  let k0 = <usize>load<i32>(pr);
  const off = <usize>start << 3;
  let pb = b + off;
  let pout = r + off;
  let s: f64 = 0;
  while (pr < stop) {
    const k1 = <usize>load<i32>(pr, 4);
    const ri = load<f64>(pb) - rowDot(vals + (k0 << 3), cols + (k0 << 2), k1 - k0, x);
    store<f64>(pout, ri);
    s += ri * ri;
    k0 = k1;
    pr += 4;
    pb += 8;
    pout += 8;
  }
  return s;
}
