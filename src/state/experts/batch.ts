import { z } from "zod";
import { NpyError, npyToFloat32, parseNpy } from "../../core/formats/npy.ts";
import { CodedError } from "../../core/base/coded-error.ts";

/**
 * The generic job's input batch, from an uploaded file: JSON `{"shape": [rows, ...], "data": [...]}` (data
 * flat in C order, or nested arrays matching the shape) or a .npy array (float32/float64/uint8, C order).
 * Pure (no DOM): the browser reads the file's bytes and hands them here. Dim 0 is the batch (rows); the rest
 * must multiply to the model's per-row input width, checked against the loaded model by checkBatchFits.
 */
export const MAX_BATCH_FILE_BYTES = 64 * 1024 * 1024;
/** 16 Mi float32 values = 64 MiB in memory, as many as one inference batch reasonably holds here. */
export const MAX_BATCH_VALUES = 16 * 1024 * 1024;
export const MAX_MODEL_FILE_BYTES = 64 * 1024 * 1024;

export type BatchErrorCode = "bad_file" | "too_large" | "bad_shape";

export class BatchError extends CodedError<BatchErrorCode> {
  override readonly name = "BatchError";
}

export interface InputBatch {
  /** [rows, ...per-row dims]. */
  readonly shape: readonly number[];
  readonly rows: number;
  /** Values per row. */
  readonly cols: number;
  readonly data: Float32Array;
  readonly format: "json" | "npy";
}

const jsonBatchSchema = z.strictObject({
  shape: z.array(z.number().int().min(1).max(MAX_BATCH_VALUES)).min(2).max(8),
  data: z.array(z.unknown()),
});

/** Parses a batch file by content: .npy magic first, else JSON. */
export function parseInputBatch(fileName: string, bytes: Uint8Array): InputBatch {
  if (bytes.length > MAX_BATCH_FILE_BYTES) {
    throw new BatchError(
      "too_large",
      `${fileName} is ${bytes.length} bytes; input batches are limited to ${MAX_BATCH_FILE_BYTES / 1024 / 1024} MiB`,
    );
  }
  if (bytes[0] === 0x93 && bytes[1] === 0x4e) return parseNpyBatch(fileName, bytes);
  if (fileName.toLowerCase().endsWith(".npy")) return parseNpyBatch(fileName, bytes);
  return parseJsonBatch(fileName, new TextDecoder("utf-8", { fatal: false }).decode(bytes));
}

export function parseNpyBatch(fileName: string, bytes: Uint8Array): InputBatch {
  let array;
  try {
    array = parseNpy(bytes, { maxElements: MAX_BATCH_VALUES });
  } catch (error) {
    if (error instanceof NpyError) {
      throw new BatchError(
        error.code === "too_large" ? "too_large" : "bad_file",
        `${fileName}: ${error.message}`,
      );
    }
    throw error;
  }
  if (array.shape.length < 2) {
    throw new BatchError(
      "bad_shape",
      `${fileName}: the array has shape (${array.shape.join(", ")}); a batch needs [rows, ...] with at least 2 dims, e.g. (5, 784)`,
    );
  }
  return finish(fileName, array.shape, npyToFloat32(array), "npy");
}

export function parseJsonBatch(fileName: string, text: string): InputBatch {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new BatchError(
      "bad_file",
      `${fileName} is neither a .npy file nor JSON (${(error as Error).message})`,
    );
  }
  const parsed = jsonBatchSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
    throw new BatchError(
      "bad_file",
      `${fileName}: expected {"shape": [rows, ...] (2 to 8 dims), "data": [...]}; ${where}`,
    );
  }
  const { shape, data } = parsed.data;
  const count = product(shape);
  if (count > MAX_BATCH_VALUES) {
    throw new BatchError(
      "too_large",
      `${fileName}: shape [${shape.join(", ")}] is ${count} values; at most ${MAX_BATCH_VALUES}`,
    );
  }
  const flat = new Float32Array(count);
  let at = 0;
  const visit = (value: unknown, depth: number, path: string): void => {
    if (Array.isArray(value)) {
      // Nested data must follow the shape exactly; flat data is one array of every value.
      if (depth >= shape.length) {
        throw new BatchError(
          "bad_shape",
          `${fileName}: data${path} nests deeper than shape [${shape.join(", ")}]`,
        );
      }
      if (depth > 0 && value.length !== shape[depth]) {
        throw new BatchError(
          "bad_shape",
          `${fileName}: data${path} has ${value.length} entries, shape says ${shape[depth]}`,
        );
      }
      value.forEach((v, i) => visit(v, depth + 1, `${path}[${i}]`));
      return;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new BatchError(
        "bad_file",
        `${fileName}: data${path} is ${JSON.stringify(value)?.slice(0, 30)}, not a finite number`,
      );
    }
    if (at >= count)
      throw new BatchError(
        "bad_shape",
        `${fileName}: data has more values than shape [${shape.join(", ")}] holds (${count})`,
      );
    flat[at++] = value;
  };
  const nested = data.length > 0 && Array.isArray(data[0]);
  if (nested && data.length !== shape[0]) {
    throw new BatchError("bad_shape", `${fileName}: data has ${data.length} rows, shape says ${shape[0]}`);
  }
  data.forEach((v, i) => visit(v, nested ? 1 : shape.length, `[${i}]`));
  if (at !== count) {
    throw new BatchError(
      "bad_shape",
      `${fileName}: data has ${at} values, shape [${shape.join(", ")}] needs ${count}`,
    );
  }
  return finish(fileName, shape, flat, "json");
}

function finish(
  fileName: string,
  shape: readonly number[],
  data: Float32Array,
  format: "json" | "npy",
): InputBatch {
  const rows = shape[0]!;
  if (rows < 1)
    throw new BatchError("bad_shape", `${fileName}: the batch has no rows (shape [${shape.join(", ")}])`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new BatchError(
        "bad_file",
        `${fileName}: value ${i} is ${data[i]}; inputs must be finite numbers`,
      );
    }
  }
  return { shape, rows, cols: data.length / rows, data, format };
}

/**
 * Throws BatchError("bad_shape") when the batch cannot feed a model whose rows take `inputCols` values
 * (0 = symbolic width: anything goes) and, when fixed, exactly `fixedRows` rows.
 */
export function checkBatchFits(
  batch: InputBatch,
  model: { readonly inputName: string; readonly inputCols: number; readonly fixedRows?: number | null },
): void {
  if (model.inputCols > 0 && batch.cols !== model.inputCols) {
    throw new BatchError(
      "bad_shape",
      `wrong shape: the model's input "${model.inputName}" takes ${model.inputCols} values per row; ` +
        `the batch is [${batch.shape.join(", ")}] (${batch.cols} per row)`,
    );
  }
  if (model.fixedRows != null && batch.rows !== model.fixedRows) {
    throw new BatchError(
      "bad_shape",
      `wrong shape: the model takes exactly ${model.fixedRows} rows; the batch has ${batch.rows}`,
    );
  }
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * A cheap look at the first bytes before onnxruntime gets the file: an ONNX model is a protobuf ModelProto,
 * whose exporters all start with field 1 (ir_version, a varint: byte 0x08) and a small version number.
 * Catches the usual wrong uploads (an image, a zip, JSON, text) with a clear message; anything that passes
 * is still checked for real by onnxruntime when loaded.
 */
export function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length >= 16 && bytes[0] === 0x08 && bytes[1]! >= 1 && bytes[1]! <= 30;
}
