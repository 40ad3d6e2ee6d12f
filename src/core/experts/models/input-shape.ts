import type { ManifestModel } from "../../protocol/manifest.ts";
import { ExpertError } from "./runner.ts";

/**
 * What a loaded model takes and gives, read from the runtime's metadata once at load, and the check every
 * run goes through BEFORE the runtime sees the input: onnxruntime's own shape errors are long C++ messages
 * that name neither what was expected nor what was given.
 */

/** The part of onnxruntime's InferenceSession.ValueMetadata (web and node alike) used here. */
export type ValueMetaLike =
  | { readonly name: string; readonly isTensor: false }
  | {
      readonly name: string;
      readonly isTensor: true;
      readonly type: string;
      readonly shape: readonly (number | string)[];
    };

export interface ModelIo {
  readonly inputName: string;
  /** A fixed batch size when the model's first dim is a number (rows must equal it), else null. */
  readonly fixedRows: number | null;
  /** The non-batch dims fed with each run, e.g. [784] or [1, 28, 28]; a symbolic one is -1. */
  readonly rowDims: readonly number[];
  /** Values per row (product of rowDims), 0 when a symbolic dim makes it "whatever was given". */
  readonly inputCols: number;
  readonly outputNames: readonly string[];
  /** Per-row width of the first output, 0 when symbolic. */
  readonly outputCols: number;
}

/** Reads the model's I/O from runtime metadata; `entry` (a manifest model) must agree with it. */
export function describeModelIo(
  inputs: readonly ValueMetaLike[],
  outputs: readonly ValueMetaLike[],
  label: string,
  entry?: ManifestModel,
): ModelIo {
  const input = inputs[0];
  if (!input) throw new ExpertError("corrupt_model", `${label}: the model has no input`);
  if (inputs.length > 1) {
    throw new ExpertError(
      "bad_input",
      `${label}: the model wants ${inputs.length} inputs (${inputs.map((i) => i.name).join(", ")}); ` +
        `this runner feeds exactly one float32 tensor`,
    );
  }
  if (!input.isTensor || input.type !== "float32") {
    const given = input.isTensor ? input.type : "a non-tensor value";
    throw new ExpertError(
      "bad_input",
      `${label}: input "${input.name}" is ${given}; this runner feeds float32 tensors only`,
    );
  }
  if (input.shape.length < 2) {
    throw new ExpertError(
      "bad_input",
      `${label}: input "${input.name}" has shape [${input.shape.join(", ")}]; a batch dim plus at least ` +
        `one more is needed`,
    );
  }
  const rowDims = input.shape.slice(1).map(fixedDim);
  const symbolic = rowDims.filter((d) => d < 0).length;
  if (symbolic > 0 && rowDims.length > 1) {
    throw new ExpertError(
      "bad_input",
      `${label}: input "${input.name}" has shape [${input.shape.join(", ")}]: symbolic non-batch dims ` +
        `are only supported for rank-2 inputs`,
    );
  }
  const first = input.shape[0];
  const firstOutput = outputs[0];
  if (!firstOutput) throw new ExpertError("corrupt_model", `${label}: the model has no output`);
  const io: ModelIo = {
    inputName: input.name,
    fixedRows: typeof first === "number" && first > 0 ? first : null,
    rowDims,
    inputCols: symbolic > 0 ? 0 : rowDims.reduce((a, b) => a * b, 1),
    outputNames: outputs.map((o) => o.name),
    outputCols: firstOutput.isTensor ? rowWidth(firstOutput.shape) : 0,
  };
  if (entry) checkAgainstManifest(io, entry, label);
  return io;
}

/** Throws ExpertError("bad_input") naming expected vs given when `input` cannot be fed to the model. */
export function checkRunInput(io: ModelIo, input: unknown, rows: unknown): void {
  const wanted = describeWanted(io);
  if (!(input instanceof Float32Array)) {
    throw new ExpertError("bad_input", `expected a Float32Array for ${wanted}; given ${typeName(input)}`);
  }
  if (typeof rows !== "number" || !Number.isInteger(rows) || rows < 1) {
    throw new ExpertError("bad_input", `expected rows to be a positive integer for ${wanted}; given ${rows}`);
  }
  if (io.fixedRows !== null && rows !== io.fixedRows) {
    throw new ExpertError("bad_input", `expected exactly ${io.fixedRows} rows for ${wanted}; given ${rows}`);
  }
  if (io.inputCols > 0 ? input.length !== rows * io.inputCols : input.length % rows !== 0 || !input.length) {
    const expected =
      io.inputCols > 0 ? `${rows} × ${io.inputCols} = ${rows * io.inputCols}` : `a multiple of ${rows}`;
    throw new ExpertError(
      "bad_input",
      `expected ${expected} float32 values for ${wanted} with ${rows} rows; given ${input.length}`,
    );
  }
}

/** The dims to feed for a checked input: [rows, ...rowDims] with a symbolic width resolved. */
export function feedDims(io: ModelIo, inputLength: number, rows: number): number[] {
  return [rows, ...io.rowDims.map((d) => (d < 0 ? inputLength / rows : d))];
}

function checkAgainstManifest(io: ModelIo, entry: ManifestModel, label: string): void {
  const problems: string[] = [];
  const input = entry.inputs[0];
  if (input && input.name !== io.inputName) problems.push(`input "${io.inputName}" ≠ "${input.name}"`);
  const inputCols = input ? rowWidth(input.shape) : 0;
  if (inputCols > 0 && io.inputCols > 0 && inputCols !== io.inputCols) {
    problems.push(`input width ${io.inputCols} ≠ ${inputCols}`);
  }
  const names = entry.outputs.map((o) => o.name);
  const missing = names.filter((n) => !io.outputNames.includes(n));
  if (missing.length > 0) problems.push(`outputs [${io.outputNames.join(", ")}] lack ${missing.join(", ")}`);
  if (problems.length > 0) {
    throw new ExpertError(
      "corrupt_model",
      `${label} does not match its manifest entry: ${problems.join("; ")}`,
    );
  }
}

function describeWanted(io: ModelIo): string {
  const batch = io.fixedRows ?? "rows";
  return `input "${io.inputName}" float32 [${[batch, ...io.rowDims.map((d) => (d < 0 ? "cols" : d))].join(", ")}]`;
}

function fixedDim(d: number | string): number {
  return typeof d === "number" && d > 0 ? d : -1;
}

/** Product of the non-batch dims, 0 when one is symbolic. */
function rowWidth(shape: readonly (number | string)[]): number {
  let width = 1;
  for (const d of shape.slice(1)) {
    if (typeof d !== "number" || d <= 0) return 0;
    width *= d;
  }
  return width;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as { constructor?: { name?: string } }).constructor?.name ?? "an object";
}
