import type { ExecutionProvider, ModelVariant } from "../../../protocol/manifest.ts";
import type { ModelSource } from "../../models/runner.ts";

/**
 * How far an honest host's outputs may differ from the requester's own computation of the same model on the
 * same rows: beyond it, the host is lying or broken. Checked per value as |a − b| ≤ absolute + relative · |b|
 * on the model's outputs (an expert's logits).
 *
 * The REQUESTER decides, from the model variant it sent, never from what a host says about itself (a host's
 * `provider` in its `hosting` message is its own claim: a host claiming "webgpu" used to get a tolerance of
 * 5e-2 + 2e-2·|v|, enough to flip 2.8 % of the test set's predictions while passing every check; issue 10).
 *
 * - "int8": the int8 graphs (MatMulInteger) are exact: integer products, then a few IEEE float32 ops (scale,
 *   bias, ReLU) in the same order on every provider. onnxruntime-web's wasm build and onnxruntime-node agree
 *   to a few float32 ulps on logits of magnitude ~10 (e2e/experts-worker.spec.ts asserts ≤ 1e-5); webgpu has
 *   no integer kernels and runs them on its CPU fallback, the same code. So: 1e-5 absolute plus 1e-6
 *   relative, three orders below the smallest lie worth telling (faults.ts moves logits by a relative 1e-3;
 *   a flipped prediction on this test set needs far more than 1e-5).
 * - "float": the fp32 and qdq graphs of the manifest: float MatMuls that webgpu (where a host has it) sums in
 *   its own order. e2e/experts-worker.spec.ts measures ≤ 1e-4·(1 + |ref|) for qdq on webgpu and wasm against
 *   node; 1e-3 leaves a margin of 10.
 * - "upload": a model of unknown variant (a user's bytes): every honest host runs it on wasm
 *   (models/provider-choice.ts), the requester on wasm too in a browser, on onnxruntime-node's MLAS in Node:
 *   the same kernels at other vector widths, so only float rounding differs; 1e-4.
 */
export interface Tolerance {
  readonly absolute: number;
  readonly relative: number;
}

export const TOLERANCE = {
  int8: { absolute: 1e-5, relative: 1e-6 },
  float: { absolute: 1e-3, relative: 1e-3 },
  upload: { absolute: 1e-4, relative: 1e-4 },
} as const satisfies Record<string, Tolerance>;

export type ToleranceName = keyof typeof TOLERANCE;

/** A provider name as a host declares it or the requester's runner reports it (display only). */
export type ProviderName = ExecutionProvider | "cpu";

/** The tolerance for a model of this variant (undefined: not known, e.g. uploaded bytes). */
export function toleranceForVariant(variant: ModelVariant | undefined): {
  name: ToleranceName;
  tolerance: Tolerance;
} {
  const name: ToleranceName = variant === "int8" ? "int8" : variant === undefined ? "upload" : "float";
  return { name, tolerance: TOLERANCE[name] };
}

/** The tolerance for the model the requester sends: from its manifest entry's variant; bytes (an upload)
 *  are "upload". */
export function toleranceForSource(source: ModelSource): { name: ToleranceName; tolerance: Tolerance } {
  return toleranceForVariant(source.kind === "manifest" ? source.entry.variant : undefined);
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
