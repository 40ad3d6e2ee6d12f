/**
 * Static int8 quantization. Weights: symmetric per output column, q = round(w / s_j) in [-127, 127] with
 * s_j = max_k |w[k, j]| / 127 and zero-point 0. Activations: uint8 with zero-point 0 and a *fixed* scale chosen
 * at build time (calibration), never computed from the batch, so a row's result does not depend on the rows
 * it was batched with. Input pixels are p/255, so scale 1/255 represents them exactly.
 */
export interface QuantizedMatrix {
  readonly rows: number;
  readonly cols: number;
  /** [rows, cols] */
  readonly q: Int8Array;
  /** Per column. */
  readonly scales: Float32Array;
}

export const PIXEL_SCALE = Math.fround(1 / 255);
export const INT8_MAX = 127;
export const UINT8_MAX = 255;
/** Columns whose largest |w| is below this quantize to zeros (error ≤ 1e-30). */
export const MIN_COLUMN_MAX = 1e-30;

export function quantizePerColumn(w: Float32Array, rows: number, cols: number): QuantizedMatrix {
  if (w.length !== rows * cols) throw new Error(`matrix has ${w.length} values, expected ${rows} × ${cols}`);
  const scales = new Float32Array(cols);
  for (let j = 0; j < cols; j++) {
    let max = 0;
    for (let k = 0; k < rows; k++) max = Math.max(max, Math.abs(w[k * cols + j]!));
    // An all-zero column quantizes to zeros with any scale; 1 keeps the scale finite and non-zero. A column
    // below MIN_COLUMN_MAX is treated as zero too: its float32 scale would underflow.
    scales[j] = max >= MIN_COLUMN_MAX ? max / INT8_MAX : 1;
  }
  const q = new Int8Array(rows * cols);
  for (let k = 0; k < rows; k++) {
    for (let j = 0; j < cols; j++) {
      const v = Math.round(w[k * cols + j]! / scales[j]!);
      q[k * cols + j] = Math.max(-INT8_MAX, Math.min(INT8_MAX, v));
    }
  }
  return { rows, cols, q, scales };
}

export function dequantize(m: QuantizedMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let k = 0; k < m.rows; k++) {
    for (let j = 0; j < m.cols; j++) out[k * m.cols + j] = m.q[k * m.cols + j]! * m.scales[j]!;
  }
  return out;
}

/** The p-quantile (0 ≤ p ≤ 1) of `values` (nearest rank; sorts a copy). */
export function quantile(values: Float32Array, p: number): number {
  if (values.length === 0) throw new Error("quantile of an empty set");
  const sorted = Float32Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * uint8 scale (zero-point 0) for non-negative activations: the `p` quantile maps to 255, larger values
 * saturate. Clipping a few outliers keeps resolution for the bulk of the values.
 */
export function activationScale(values: Float32Array, p: number): number {
  const top = quantile(values, p);
  return Math.fround(top > 0 ? top / UINT8_MAX : 1);
}
