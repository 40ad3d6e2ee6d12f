// CSR sparse matrix-vector product on a row range [start, end). rowPtr and colIdx are i32, values and
// vectors f64. SpMV is gather-bound (wasm SIMD has no gather), so:
//  - pairs of x entries are gathered into one f64x2 (load64_zero + load64_lane) and multiplied by two
//    contiguous values in one SIMD op, with two vector accumulators for rows longer than 4;
//  - rows of 0–8 nonzeros (stencils: 5 in 2D, 7 in 3D) jump through one br_table to straight-line code,
//    instead of rowDot's loop, pair step and tail tests: about 10 fewer instructions per row, +15–18% on
//    a 2D Poisson row block in L2, +5–14% in 3D (the kernel is instruction-bound there, and close to it
//    when the matrix streams from L3); same summation order as rowDot, so results are unchanged;
//  - the range is cut into four quarters walked in lockstep, rows of each per step: four independent
//    rows at a time, four sets of streams in flight. Out of cache this was 1.7× faster on Poisson 3D (n = 10⁶, 7
//    nonzeros per row) than one row at a time, and within ±10% elsewhere (Poisson 2D, bcsstk13).
// Each row sums in a fixed order that depends on its length alone, whatever the range.
// (Variants measured: scalar with 1–2 accumulators unrolled by 2 or 4, SIMD pairs, 2-, 3-, 4-, 6- and
// 8-way interleaving, column indices pre-scaled to byte offsets; see kernels/wasm/README.md.)

/** Σ_k vals[k]·x[cols[k]] for k in [k0, k1). */
@inline function rowDot(vals: usize, cols: usize, k0: usize, k1: usize, x: usize): f64 {
  let pv = vals + (k0 << 3);
  let pc = cols + (k0 << 2);
  const ce = cols + (k1 << 2);
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  while (pc + 16 <= ce) {
    let x0 = v128.load64_zero(x + (<usize>load<i32>(pc) << 3));
    x0 = v128.load64_lane(x + (<usize>load<i32>(pc, 4) << 3), x0, 1);
    let x1 = v128.load64_zero(x + (<usize>load<i32>(pc, 8) << 3));
    x1 = v128.load64_lane(x + (<usize>load<i32>(pc, 12) << 3), x1, 1);
    a0 = f64x2.add(a0, f64x2.mul(v128.load(pv), x0));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(pv, 16), x1));
    pv += 32;
    pc += 16;
  }
  if (pc + 8 <= ce) {
    let x0 = v128.load64_zero(x + (<usize>load<i32>(pc) << 3));
    x0 = v128.load64_lane(x + (<usize>load<i32>(pc, 4) << 3), x0, 1);
    a0 = f64x2.add(a0, f64x2.mul(v128.load(pv), x0));
    pv += 16;
    pc += 8;
  }
  const acc = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (pc < ce) s += load<f64>(pv) * load<f64>(x + (<usize>load<i32>(pc) << 3));
  return s;
}

/** x[c0], x[c1] as one f64x2. */
@inline function gather2(x: usize, c0: i32, c1: i32): v128 {
  return v128.load64_lane(x + (<usize>c1 << 3), v128.load64_zero(x + (<usize>c0 << 3)), 1);
}

@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * rowDot for rows of 0–8 nonzeros, unrolled: P(j) is the pair product vals[j..j+1]·x[cols[j..j+1]] and
 * the additions follow rowDot's order (a0 takes pairs 0, 4 and the odd pair, a1 pairs 2, 6; then
 * a0 + a1, its two lanes, the last odd entry). rowDot starts its accumulators at +0, which turns a −0
 * product into +0; the closing `+ 0.0` does the same here (it only changes a −0 result), so both give
 * the same bits.
 */
@inline function rowShort(vals: usize, cols: usize, k0: usize, k1: usize, x: usize): f64 {
  const pv = vals + (k0 << 3);
  const pc = cols + (k0 << 2);
  switch (<i32>(k1 - k0)) {
    case 0:
      return 0;
    case 1:
      return load<f64>(pv) * load<f64>(x + (<usize>load<i32>(pc) << 3)) + 0.0;
    case 2: {
      const p0 = f64x2.mul(v128.load(pv), gather2(x, load<i32>(pc), load<i32>(pc, 4)));
      return hsum(p0) + 0.0;
    }
    case 3: {
      const p0 = f64x2.mul(v128.load(pv), gather2(x, load<i32>(pc), load<i32>(pc, 4)));
      return hsum(p0) + load<f64>(pv, 16) * load<f64>(x + (<usize>load<i32>(pc, 8) << 3)) + 0.0;
    }
    case 4: {
      const p0 = f64x2.mul(v128.load(pv), gather2(x, load<i32>(pc), load<i32>(pc, 4)));
      const p2 = f64x2.mul(v128.load(pv, 16), gather2(x, load<i32>(pc, 8), load<i32>(pc, 12)));
      return hsum(f64x2.add(p0, p2)) + 0.0;
    }
    case 5: {
      const p0 = f64x2.mul(v128.load(pv), gather2(x, load<i32>(pc), load<i32>(pc, 4)));
      const p2 = f64x2.mul(v128.load(pv, 16), gather2(x, load<i32>(pc, 8), load<i32>(pc, 12)));
      const t = load<f64>(pv, 32) * load<f64>(x + (<usize>load<i32>(pc, 16) << 3));
      return hsum(f64x2.add(p0, p2)) + t + 0.0;
    }
    case 6: {
      const p0 = f64x2.mul(v128.load(pv), gather2(x, load<i32>(pc), load<i32>(pc, 4)));
      const p2 = f64x2.mul(v128.load(pv, 16), gather2(x, load<i32>(pc, 8), load<i32>(pc, 12)));
      const p4 = f64x2.mul(v128.load(pv, 32), gather2(x, load<i32>(pc, 16), load<i32>(pc, 20)));
      return hsum(f64x2.add(f64x2.add(p0, p4), p2)) + 0.0;
    }
    case 7: {
      const p0 = f64x2.mul(v128.load(pv), gather2(x, load<i32>(pc), load<i32>(pc, 4)));
      const p2 = f64x2.mul(v128.load(pv, 16), gather2(x, load<i32>(pc, 8), load<i32>(pc, 12)));
      const p4 = f64x2.mul(v128.load(pv, 32), gather2(x, load<i32>(pc, 16), load<i32>(pc, 20)));
      const t = load<f64>(pv, 48) * load<f64>(x + (<usize>load<i32>(pc, 24) << 3));
      return hsum(f64x2.add(f64x2.add(p0, p4), p2)) + t + 0.0;
    }
    case 8: {
      const p0 = f64x2.mul(v128.load(pv), gather2(x, load<i32>(pc), load<i32>(pc, 4)));
      const p2 = f64x2.mul(v128.load(pv, 16), gather2(x, load<i32>(pc, 8), load<i32>(pc, 12)));
      const p4 = f64x2.mul(v128.load(pv, 32), gather2(x, load<i32>(pc, 16), load<i32>(pc, 20)));
      const p6 = f64x2.mul(v128.load(pv, 48), gather2(x, load<i32>(pc, 24), load<i32>(pc, 28)));
      return hsum(f64x2.add(f64x2.add(p0, p4), f64x2.add(p2, p6))) + 0.0;
    }
    default:
      return rowDot(vals, cols, k0, k1, x);
  }
}

/** y[i] = (A x)[i] for rows [start, end). */
export function spmvRange(rowPtr: usize, cols: usize, vals: usize, x: usize, y: usize, start: i32, end: i32): void {
  // Four quarters of an even number q of rows; each step runs two consecutive rows of each quarter
  // (half the loop overhead of one row per quarter: +2–5% in cache, same streams in flight).
  const q = ((end - start) >> 3) << 1;
  const qr = <usize>q << 2; // quarter stride in rowPtr bytes
  const qy = <usize>q << 3; // ... and in y bytes
  let r0 = rowPtr + (<usize>start << 2);
  let py = y + (<usize>start << 3);
  const stop = r0 + qr;
  while (r0 < stop) {
    const r1 = r0 + qr;
    const r2 = r1 + qr;
    const r3 = r2 + qr;
    const a = rowShort(vals, cols, <usize>load<i32>(r0), <usize>load<i32>(r0, 4), x);
    const b = rowShort(vals, cols, <usize>load<i32>(r1), <usize>load<i32>(r1, 4), x);
    const c = rowShort(vals, cols, <usize>load<i32>(r2), <usize>load<i32>(r2, 4), x);
    const d = rowShort(vals, cols, <usize>load<i32>(r3), <usize>load<i32>(r3, 4), x);
    const a2 = rowShort(vals, cols, <usize>load<i32>(r0, 4), <usize>load<i32>(r0, 8), x);
    const b2 = rowShort(vals, cols, <usize>load<i32>(r1, 4), <usize>load<i32>(r1, 8), x);
    const c2 = rowShort(vals, cols, <usize>load<i32>(r2, 4), <usize>load<i32>(r2, 8), x);
    const d2 = rowShort(vals, cols, <usize>load<i32>(r3, 4), <usize>load<i32>(r3, 8), x);
    store<f64>(py, a);
    store<f64>(py + qy, b);
    store<f64>(py + 2 * qy, c);
    store<f64>(py + 3 * qy, d);
    store<f64>(py, a2, 8);
    store<f64>(py + qy, b2, 8);
    store<f64>(py + 2 * qy, c2, 8);
    store<f64>(py + 3 * qy, d2, 8);
    r0 += 8;
    py += 16;
  }
  // The 0–7 rows left after four equal quarters.
  for (let i = start + 4 * q; i < end; i++) {
    const pr = rowPtr + (<usize>i << 2);
    store<f64>(y + (<usize>i << 3), rowShort(vals, cols, <usize>load<i32>(pr), <usize>load<i32>(pr, 4), x));
  }
}
