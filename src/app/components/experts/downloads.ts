import { writeNpy } from "../../../core/formats/npy.ts";
import { saveFile } from "../../save-file.ts";

/** A file-name-safe stem from an uploaded model's name ("my model.onnx" → "my_model"). */
export function stemOf(fileName: string): string {
  const stem = fileName.replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9._-]+/g, "_");
  return stem.slice(0, 80) || "model";
}

/** One output as a float32 .npy of shape [rows, cols]. */
export function downloadOutputNpy(stem: string, name: string, data: Float32Array, cols: number): void {
  const bytes = writeNpy(data, [data.length / cols, cols]);
  saveFile(`${stem}-${stemOf(name)}.npy`, bytes, "application/octet-stream");
}

/** Every output in one JSON file: { model, sha256, outputs: { name: { shape, data } } }. */
export function downloadOutputsJson(
  stem: string,
  meta: Record<string, unknown>,
  outputs: ReadonlyMap<string, { readonly data: Float32Array; readonly cols: number }>,
): void {
  const body: Record<string, { shape: number[]; data: number[] }> = {};
  for (const [name, o] of outputs)
    body[name] = { shape: [o.data.length / o.cols, o.cols], data: Array.from(o.data) };
  saveFile(`${stem}-outputs.json`, JSON.stringify({ ...meta, outputs: body }), "application/json");
}
