import { ExpertError } from "../../models/runner.ts";
import type { XpOutputBlock } from "../../../protocol/experts.ts";

/**
 * The generic job keeps a model's outputs "wide": one row per input row holding every output's values for
 * that row, outputs in the model's order ([rows, Σ cols]). Then a row is a row whatever the model, and the
 * verification code written for one output (canaries, replicas, arbitration: compareOutputs over [rows,
 * cols]) checks every output at once. Results arrive as named blocks (protocol/experts.ts, models/runner.ts) and leave as
 * named blocks (RunModelResult); these functions convert, and refuse blocks that do not match the layout
 * the requester learned from its own run of the model.
 */
export type OutputLayout = readonly XpOutputBlock[];

export function layoutCols(layout: OutputLayout): number {
  return layout.reduce((n, b) => n + b.cols, 0);
}

/** Why `blocks` does not match `layout` (missing, extra, or differently sized outputs), or null. */
export function layoutMismatch(
  blocks: ReadonlyMap<string, { readonly data: Float32Array; readonly cols: number }>,
  rows: number,
  layout: OutputLayout,
): string | null {
  if (blocks.size !== layout.length) {
    return `${blocks.size} outputs [${[...blocks.keys()].join(", ")}], expected ${layout.length} [${layout
      .map((b) => b.name)
      .join(", ")}]`;
  }
  for (const want of layout) {
    const got = blocks.get(want.name);
    if (!got) return `no output ${want.name}`;
    if (got.cols !== want.cols) return `output ${want.name} is ${got.cols} wide, expected ${want.cols}`;
    if (got.data.length !== rows * want.cols) {
      return `output ${want.name} has ${got.data.length} values for ${rows} rows of ${want.cols}`;
    }
  }
  return null;
}

/** Named blocks → wide rows (throws ExpertError("runtime_failed") when they do not match the layout). */
export function blocksToWide(
  blocks: ReadonlyMap<string, { readonly data: Float32Array; readonly cols: number }>,
  rows: number,
  layout: OutputLayout,
): Float32Array {
  const why = layoutMismatch(blocks, rows, layout);
  if (why) throw new ExpertError("runtime_failed", `the model's outputs changed: ${why}`);
  const width = layoutCols(layout);
  const wide = new Float32Array(rows * width);
  let offset = 0;
  for (const b of layout) {
    const data = blocks.get(b.name)!.data;
    for (let r = 0; r < rows; r++) {
      wide.set(data.subarray(r * b.cols, (r + 1) * b.cols), r * width + offset);
    }
    offset += b.cols;
  }
  return wide;
}

/** Wide rows → named blocks, each [rows, cols] (fresh arrays). */
export function wideToBlocks(
  wide: Float32Array,
  rows: number,
  layout: OutputLayout,
): Record<string, { data: Float32Array; cols: number }> {
  const width = layoutCols(layout);
  const out: Record<string, { data: Float32Array; cols: number }> = {};
  let offset = 0;
  for (const b of layout) {
    const data = new Float32Array(rows * b.cols);
    for (let r = 0; r < rows; r++) {
      data.set(wide.subarray(r * width + offset, r * width + offset + b.cols), r * b.cols);
    }
    out[b.name] = { data, cols: b.cols };
    offset += b.cols;
  }
  return out;
}
