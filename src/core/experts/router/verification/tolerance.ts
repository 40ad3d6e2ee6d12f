import type { ExecutionProvider } from "../../../protocol/manifest.ts";

/**
 * How far two honest computations of the same model on the same rows may differ, per pair of providers: a
 * host whose outputs differ from the reference by more is lying or broken. Checked per value as
 * |a − b| ≤ absolute + relative · |b| on the expert's logits.
 *
 * - "same-provider": the int8 graph's integer products are exact and the float epilogue runs the same code,
 *   so two hosts on one provider agree bit for bit in practice; 1e-6 leaves room for a thread count that
 *   changes a float reduction, and is still three orders below the smallest lie worth telling (faults.ts
 *   moves logits by a relative 1e-3).
 * - "cpu~wasm": onnxruntime-node (native MLAS, AVX) against onnxruntime-web's wasm build (MLAS, 128-bit
 *   SIMD): same algorithms, different vector widths in the float parts.
 * - "gpu": anything against webgpu, which runs the qdq variant's float MatMul in its own summation order
 *   (and may use f16 internally): loose, on logits of magnitude ~10.
 */
export type ProviderName = ExecutionProvider | "cpu";

export interface Tolerance {
  readonly absolute: number;
  readonly relative: number;
}

export const PROVIDER_TOLERANCE = {
  "same-provider": { absolute: 1e-6, relative: 1e-6 },
  "cpu~wasm": { absolute: 1e-4, relative: 1e-4 },
  gpu: { absolute: 5e-2, relative: 2e-2 },
} as const satisfies Record<string, Tolerance>;

export type ToleranceName = keyof typeof PROVIDER_TOLERANCE;

export function toleranceFor(
  a: ProviderName,
  b: ProviderName,
): { name: ToleranceName; tolerance: Tolerance } {
  const name: ToleranceName =
    a === b ? "same-provider" : a === "webgpu" || b === "webgpu" ? "gpu" : "cpu~wasm";
  return { name, tolerance: PROVIDER_TOLERANCE[name] };
}

export interface Comparison {
  readonly ok: boolean;
  readonly maxAbsDiff: number;
  /** First value beyond tolerance, or -1. */
  readonly firstBad: number;
  /** Rows (of `cols` values) with at least one value beyond tolerance. */
  readonly badRows: number;
}

/** Compares `a` against the reference `b` ([rows, cols]); a length mismatch is a failure. */
export function compareOutputs(a: Float32Array, b: Float32Array, cols: number, tol: Tolerance): Comparison {
  if (a.length !== b.length)
    return { ok: false, maxAbsDiff: Infinity, firstBad: 0, badRows: Math.max(1, b.length / cols) };
  let maxAbsDiff = 0;
  let firstBad = -1;
  let badRows = 0;
  let lastBadRow = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= tol.absolute + tol.relative * Math.abs(b[i]!))) {
      if (firstBad < 0) firstBad = i;
      const row = Math.floor(i / cols);
      if (row !== lastBadRow) {
        badRows++;
        lastBadRow = row;
      }
    }
    if (!(d <= maxAbsDiff)) maxAbsDiff = d;
  }
  return { ok: firstBad < 0, maxAbsDiff, firstBad, badRows };
}
