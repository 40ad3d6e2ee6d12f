import type { OnnxAttribute, OnnxNode } from "./onnx-model.ts";

/**
 * What the shape inference of shape-ops.ts reasons about: a tensor as an upper bound of its shape, its element
 * size and, for small integer tensors, its values; with the helpers every operator rule uses (broadcasting,
 * attributes, axes, window ops).
 */
export interface Val {
  /** Upper bound of each dim. */
  readonly shape: readonly number[];
  /** Bytes per element. */
  readonly size: number;
  /** Contents, when a small integer tensor's are known. */
  readonly ints: readonly number[] | null;
}

export class Unbounded extends Error {
  override readonly name = "Unbounded";
}

export const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
};
export const elementBytes = (dataType: number): number => ELEMENT_BYTES[dataType] ?? 8;

export const SMALL = 64;
export const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
export const val = (shape: readonly number[], size: number, ints: readonly number[] | null = null): Val => ({
  shape: shape.map((d) => Math.max(0, d)),
  size,
  ints: ints && ints.length <= SMALL ? ints : null,
});
export const ints = (v: Val | undefined, what: string): readonly number[] => {
  if (!v?.ints) throw new Unbounded(`${what} is not a constant`);
  return v.ints;
};
export const attrInt = (n: OnnxNode, name: string, fallback: number): number =>
  n.attributes.get(name)?.i ?? fallback;
export const attrInts = (n: OnnxNode, name: string): readonly number[] | null => {
  const a: OnnxAttribute | undefined = n.attributes.get(name);
  return a ? a.ints : null;
};
export const axis = (a: number, rank: number): number => {
  const k = a < 0 ? a + rank : a;
  if (k < 0 || k >= Math.max(rank, 1)) throw new Unbounded(`axis ${a} out of range for rank ${rank}`);
  return k;
};

export function broadcast(vals: readonly Val[]): number[] {
  const rank = Math.max(...vals.map((v) => v.shape.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const v of vals) {
      const k = v.shape.length - rank + i;
      if (k >= 0) d = Math.max(d, v.shape[k]!);
    }
    out.push(d);
  }
  return out;
}

export function elementwiseInts(vals: readonly Val[], f: (a: number, b: number) => number): number[] | null {
  if (vals.length !== 2 || !vals[0]!.ints || !vals[1]!.ints) return null;
  const [a, b] = [vals[0]!.ints, vals[1]!.ints];
  const n = Math.max(a.length, b.length);
  if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return null;
  return Array.from({ length: n }, (_, i) => f(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!));
}

/** Spatial output bound of a window op: at most input + padding (stride ≥ 1 never grows it). */
export function windowed(n: OnnxNode, x: Val, channels: number): number[] {
  if (x.shape.length < 3) throw new Unbounded(`${n.opType} on a rank-${x.shape.length} input`);
  const pads = attrInts(n, "pads") ?? [];
  const spatial = x.shape.slice(2).map((d, i) => {
    const extra = (pads[i] ?? 0) + (pads[i + x.shape.length - 2] ?? 0);
    if (extra < 0) return d;
    return d + extra;
  });
  return [x.shape[0]!, channels, ...spatial];
}
