// Dense vector kernels over f64 arrays in linear memory, on an element range [start, end).
// All are streaming and memory-bound: SIMD (f64x2) with 4-way unrolling keeps enough loads in flight,
// and the reductions use several independent accumulators combined in a fixed order, so a given range
// always sums the same way (bitwise reproducible; no relaxed/fused ops whose rounding varies by CPU).

@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Σ x[i]·y[i] over [start, end). */
export function dotRange(x: usize, y: usize, start: i32, end: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let px = x + (<usize>start << 3);
  let py = y + (<usize>start << 3);
  const stop = x + (<usize>end << 3);
  while (px + 64 <= stop) {
    a0 = f64x2.add(a0, f64x2.mul(v128.load(px), v128.load(py)));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(px, 16), v128.load(py, 16)));
    a2 = f64x2.add(a2, f64x2.mul(v128.load(px, 32), v128.load(py, 32)));
    a3 = f64x2.add(a3, f64x2.mul(v128.load(px, 48), v128.load(py, 48)));
    px += 64;
    py += 64;
  }
  let s = hsum(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)));
  while (px < stop) {
    s += load<f64>(px) * load<f64>(py);
    px += 8;
    py += 8;
  }
  return s;
}

/** r = b − r over [start, end), returning Σ r[i]² (the residual's second pass, after r = A x). */
export function subFromRange(b: usize, r: usize, start: i32, end: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let pb = b + (<usize>start << 3);
  let pr = r + (<usize>start << 3);
  const stop = r + (<usize>end << 3);
  while (pr + 32 <= stop) {
    const d0 = f64x2.sub(v128.load(pb), v128.load(pr));
    const d1 = f64x2.sub(v128.load(pb, 16), v128.load(pr, 16));
    v128.store(pr, d0);
    v128.store(pr, d1, 16);
    a0 = f64x2.add(a0, f64x2.mul(d0, d0));
    a1 = f64x2.add(a1, f64x2.mul(d1, d1));
    pb += 32;
    pr += 32;
  }
  let s = hsum(f64x2.add(a0, a1));
  while (pr < stop) {
    const d = load<f64>(pb) - load<f64>(pr);
    store<f64>(pr, d);
    s += d * d;
    pb += 8;
    pr += 8;
  }
  return s;
}

/** y += alpha·x over [start, end). */
export function axpyRange(alpha: f64, x: usize, y: usize, start: i32, end: i32): void {
  const va = f64x2.splat(alpha);
  let px = x + (<usize>start << 3);
  let py = y + (<usize>start << 3);
  const stop = x + (<usize>end << 3);
  while (px + 64 <= stop) {
    v128.store(py, f64x2.add(v128.load(py), f64x2.mul(va, v128.load(px))));
    v128.store(py, f64x2.add(v128.load(py, 16), f64x2.mul(va, v128.load(px, 16))), 16);
    v128.store(py, f64x2.add(v128.load(py, 32), f64x2.mul(va, v128.load(px, 32))), 32);
    v128.store(py, f64x2.add(v128.load(py, 48), f64x2.mul(va, v128.load(px, 48))), 48);
    px += 64;
    py += 64;
  }
  while (px < stop) {
    store<f64>(py, load<f64>(py) + alpha * load<f64>(px));
    px += 8;
    py += 8;
  }
}

/** y = x + beta·y over [start, end). */
export function xpbyRange(x: usize, beta: f64, y: usize, start: i32, end: i32): void {
  const vb = f64x2.splat(beta);
  let px = x + (<usize>start << 3);
  let py = y + (<usize>start << 3);
  const stop = x + (<usize>end << 3);
  while (px + 64 <= stop) {
    v128.store(py, f64x2.add(v128.load(px), f64x2.mul(vb, v128.load(py))));
    v128.store(py, f64x2.add(v128.load(px, 16), f64x2.mul(vb, v128.load(py, 16))), 16);
    v128.store(py, f64x2.add(v128.load(px, 32), f64x2.mul(vb, v128.load(py, 32))), 32);
    v128.store(py, f64x2.add(v128.load(px, 48), f64x2.mul(vb, v128.load(py, 48))), 48);
    px += 64;
    py += 64;
  }
  while (px < stop) {
    store<f64>(py, load<f64>(px) + beta * load<f64>(py));
    px += 8;
    py += 8;
  }
}

/** a = b + s·c over [start, end): the STREAM triad, the bandwidth yardstick for the kernels above. */
export function triadRange(a: usize, b: usize, s: f64, c: usize, start: i32, end: i32): void {
  const vs = f64x2.splat(s);
  const off = <usize>start << 3;
  let pa = a + off;
  let pb = b + off;
  let pc = c + off;
  const stop = a + (<usize>end << 3);
  while (pa + 64 <= stop) {
    v128.store(pa, f64x2.add(v128.load(pb), f64x2.mul(vs, v128.load(pc))));
    v128.store(pa, f64x2.add(v128.load(pb, 16), f64x2.mul(vs, v128.load(pc, 16))), 16);
    v128.store(pa, f64x2.add(v128.load(pb, 32), f64x2.mul(vs, v128.load(pc, 32))), 32);
    v128.store(pa, f64x2.add(v128.load(pb, 48), f64x2.mul(vs, v128.load(pc, 48))), 48);
    pa += 64;
    pb += 64;
    pc += 64;
  }
  while (pa < stop) {
    store<f64>(pa, load<f64>(pb) + s * load<f64>(pc));
    pa += 8;
    pb += 8;
    pc += 8;
  }
}

/**
 * CG's fused second half-iteration over [start, end): x += alpha·p; r -= alpha·q; z = dinv∘r (z = r when
 * dinv is 0). Writes r·z to out[0] and r·r to out[1] (out is a pointer to two f64). One pass instead of
 * five: the vectors are read once.
 */
export function cgUpdateRange(
  alpha: f64,
  p: usize,
  q: usize,
  x: usize,
  r: usize,
  dinv: usize,
  z: usize,
  start: i32,
  end: i32,
  out: usize,
): void {
  const va = f64x2.splat(alpha);
  const off = <usize>start << 3;
  const len = <usize>(end - start) << 3;
  let rz0 = f64x2.splat(0);
  let rz1 = f64x2.splat(0);
  let rr0 = f64x2.splat(0);
  let rr1 = f64x2.splat(0);
  let i: usize = 0;
  const pp = p + off;
  const pq = q + off;
  const px = x + off;
  const pr = r + off;
  const pz = z + off;
  if (dinv != 0) {
    const pd = dinv + off;
    for (; i + 32 <= len; i += 32) {
      v128.store(px + i, f64x2.add(v128.load(px + i), f64x2.mul(va, v128.load(pp + i))));
      v128.store(px + i, f64x2.add(v128.load(px + i, 16), f64x2.mul(va, v128.load(pp + i, 16))), 16);
      const r0 = f64x2.sub(v128.load(pr + i), f64x2.mul(va, v128.load(pq + i)));
      const r1 = f64x2.sub(v128.load(pr + i, 16), f64x2.mul(va, v128.load(pq + i, 16)));
      v128.store(pr + i, r0);
      v128.store(pr + i, r1, 16);
      const z0 = f64x2.mul(v128.load(pd + i), r0);
      const z1 = f64x2.mul(v128.load(pd + i, 16), r1);
      v128.store(pz + i, z0);
      v128.store(pz + i, z1, 16);
      rz0 = f64x2.add(rz0, f64x2.mul(r0, z0));
      rz1 = f64x2.add(rz1, f64x2.mul(r1, z1));
      rr0 = f64x2.add(rr0, f64x2.mul(r0, r0));
      rr1 = f64x2.add(rr1, f64x2.mul(r1, r1));
    }
    let rz = hsum(f64x2.add(rz0, rz1));
    let rr = hsum(f64x2.add(rr0, rr1));
    for (; i < len; i += 8) {
      store<f64>(px + i, load<f64>(px + i) + alpha * load<f64>(pp + i));
      const ri = load<f64>(pr + i) - alpha * load<f64>(pq + i);
      store<f64>(pr + i, ri);
      const zi = load<f64>(pd + i) * ri;
      store<f64>(pz + i, zi);
      rz += ri * zi;
      rr += ri * ri;
    }
    store<f64>(out, rz);
    store<f64>(out, rr, 8);
  } else {
    const copyZ = z != r;
    for (; i + 32 <= len; i += 32) {
      v128.store(px + i, f64x2.add(v128.load(px + i), f64x2.mul(va, v128.load(pp + i))));
      v128.store(px + i, f64x2.add(v128.load(px + i, 16), f64x2.mul(va, v128.load(pp + i, 16))), 16);
      const r0 = f64x2.sub(v128.load(pr + i), f64x2.mul(va, v128.load(pq + i)));
      const r1 = f64x2.sub(v128.load(pr + i, 16), f64x2.mul(va, v128.load(pq + i, 16)));
      v128.store(pr + i, r0);
      v128.store(pr + i, r1, 16);
      if (copyZ) {
        v128.store(pz + i, r0);
        v128.store(pz + i, r1, 16);
      }
      rr0 = f64x2.add(rr0, f64x2.mul(r0, r0));
      rr1 = f64x2.add(rr1, f64x2.mul(r1, r1));
    }
    let rr = hsum(f64x2.add(rr0, rr1));
    for (; i < len; i += 8) {
      store<f64>(px + i, load<f64>(px + i) + alpha * load<f64>(pp + i));
      const ri = load<f64>(pr + i) - alpha * load<f64>(pq + i);
      store<f64>(pr + i, ri);
      if (copyZ) store<f64>(pz + i, ri);
      rr += ri * ri;
    }
    store<f64>(out, rr);
    store<f64>(out, rr, 8);
  }
}
