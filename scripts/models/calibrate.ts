import { forward, type MoeParams } from "./moe.ts";
import { activationScale } from "./quantize.ts";
import { affineRows } from "./tensor.ts";

/**
 * Calibration of the int8 hidden-activation scales: for each expert, the ReLU activations on (up to
 * `rowsPerExpert`) training images the fp32 gate routes to it, and the `quantile` of those values mapped to
 * uint8 255. The scale is a constant in the graph, so inference never looks at batch statistics.
 */
export function calibrateHiddenScales(
  params: MoeParams,
  x: Float32Array,
  count: number,
  options: { rowsPerExpert: number; quantile: number },
): number[] {
  const { inputs: D, experts: E, hidden: H } = params.shape;
  const { chosen } = forward(params, x, count);
  const K = params.shape.topK;
  const routed: number[][] = Array.from({ length: E }, () => []);
  for (let i = 0; i < count; i++) {
    for (let s = 0; s < K; s++) {
      const list = routed[chosen[i * K + s]!]!;
      if (list.length < options.rowsPerExpert) list.push(i);
    }
  }
  return routed.map((list, e) => {
    if (list.length === 0) return 1; // never routed to: any scale is as good as another
    const ex = params.experts[e]!;
    const h = new Float32Array(list.length * H);
    affineRows(x, Int32Array.from(list), list.length, D, ex.w1, ex.b1, H, h);
    for (let i = 0; i < h.length; i++) if (h[i]! < 0) h[i] = 0;
    return activationScale(h, options.quantile);
  });
}
