/**
 * The few dense kernels training needs, as plain Float32Array loops. Layout is row-major everywhere; weights
 * are [inputs, outputs] so the innermost loop runs along contiguous output columns (i-k-j order with hoisted
 * row offsets). Input rows are addressed through a row-index list, so a minibatch or an expert's routed rows
 * are never copied. Zero inputs are skipped: about half of a Fashion-MNIST image is background.
 */

/** out[i, :] = bias + x[rows[i], :] · w   (w is [k, j]; out is [n, j]). */
export function affineRows(
  x: Float32Array,
  rows: Int32Array,
  n: number,
  k: number,
  w: Float32Array,
  bias: Float32Array,
  j: number,
  out: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const xo = rows[i]! * k;
    const oo = i * j;
    for (let c = 0; c < j; c++) out[oo + c] = bias[c]!;
    for (let p = 0; p < k; p++) {
      const a = x[xo + p]!;
      if (a === 0) continue;
      const wo = p * j;
      // Unrolled by 4: about 25% faster in V8 than the plain loop on these widths.
      let c = 0;
      for (; c + 3 < j; c += 4) {
        out[oo + c] = out[oo + c]! + a * w[wo + c]!;
        out[oo + c + 1] = out[oo + c + 1]! + a * w[wo + c + 1]!;
        out[oo + c + 2] = out[oo + c + 2]! + a * w[wo + c + 2]!;
        out[oo + c + 3] = out[oo + c + 3]! + a * w[wo + c + 3]!;
      }
      for (; c < j; c++) out[oo + c] = out[oo + c]! + a * w[wo + c]!;
    }
  }
}

/** out[i, :] = bias + h[i, :] · w for packed rows h [n, k]. */
export function affine(
  h: Float32Array,
  n: number,
  k: number,
  w: Float32Array,
  bias: Float32Array,
  j: number,
  out: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const ho = i * k;
    const oo = i * j;
    for (let c = 0; c < j; c++) out[oo + c] = bias[c]!;
    for (let p = 0; p < k; p++) {
      const a = h[ho + p]!;
      if (a === 0) continue;
      const wo = p * j;
      for (let c = 0; c < j; c++) out[oo + c] = out[oo + c]! + a * w[wo + c]!;
    }
  }
}

/** dw += x[rows, :]ᵀ · d   (d is [n, j]; dw is [k, j]). */
export function accumulateOuterRows(
  x: Float32Array,
  rows: Int32Array,
  n: number,
  k: number,
  d: Float32Array,
  j: number,
  dw: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const xo = rows[i]! * k;
    const dO = i * j;
    for (let p = 0; p < k; p++) {
      const a = x[xo + p]!;
      if (a === 0) continue;
      const wo = p * j;
      let c = 0;
      for (; c + 3 < j; c += 4) {
        dw[wo + c] = dw[wo + c]! + a * d[dO + c]!;
        dw[wo + c + 1] = dw[wo + c + 1]! + a * d[dO + c + 1]!;
        dw[wo + c + 2] = dw[wo + c + 2]! + a * d[dO + c + 2]!;
        dw[wo + c + 3] = dw[wo + c + 3]! + a * d[dO + c + 3]!;
      }
      for (; c < j; c++) dw[wo + c] = dw[wo + c]! + a * d[dO + c]!;
    }
  }
}

/** dw += hᵀ · d for packed rows h [n, k]. */
export function accumulateOuter(
  h: Float32Array,
  n: number,
  k: number,
  d: Float32Array,
  j: number,
  dw: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const ho = i * k;
    const dO = i * j;
    for (let p = 0; p < k; p++) {
      const a = h[ho + p]!;
      if (a === 0) continue;
      const wo = p * j;
      for (let c = 0; c < j; c++) dw[wo + c] = dw[wo + c]! + a * d[dO + c]!;
    }
  }
}

/** db += Σ_i d[i, :]. */
export function accumulateColumnSums(d: Float32Array, n: number, j: number, db: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * j;
    for (let c = 0; c < j; c++) db[c] = db[c]! + d[o + c]!;
  }
}
