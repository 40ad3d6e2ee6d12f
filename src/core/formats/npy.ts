import { CodedError } from "../base/coded-error.ts";
/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), the subset
 * an inference batch needs: float32, float64 and uint8 arrays (either byte order), C order, any shape.
 *
 *   "\x93NUMPY" major minor  header_len (u16 LE in v1, u32 LE in v2/v3)  header  data
 *
 * The header is a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 784), }`,
 * padded with spaces and a newline so the data starts on a 64-byte boundary. Anything else (structured
 * dtypes, object arrays, Fortran order, pickles) is refused with a specific NpyError code rather than
 * misread: a wrong guess here would silently feed garbage to a model.
 */

export type NpyDtype = "float32" | "float64" | "uint8";
export type NpyData = Float32Array | Float64Array | Uint8Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  /** C order (row-major); [] for a scalar. */
  readonly shape: readonly number[];
  /** Host byte order, always a fresh buffer. */
  readonly data: NpyData;
}

export type NpyErrorCode =
  | "bad_magic"
  | "unsupported_version"
  | "bad_header"
  | "unsupported_dtype"
  | "fortran_order"
  | "truncated"
  | "trailing_bytes"
  | "too_large";

export class NpyError extends CodedError<NpyErrorCode> {
  override readonly name = "NpyError";
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy itself refuses headers past this size (a guard against hostile files). */
const MAX_HEADER_CHARS = 10_000;

const DTYPES: Readonly<Record<string, { dtype: NpyDtype; bytes: number; littleEndian: boolean }>> = {
  "<f4": { dtype: "float32", bytes: 4, littleEndian: true },
  ">f4": { dtype: "float32", bytes: 4, littleEndian: false },
  "<f8": { dtype: "float64", bytes: 8, littleEndian: true },
  ">f8": { dtype: "float64", bytes: 8, littleEndian: false },
  "|u1": { dtype: "uint8", bytes: 1, littleEndian: true },
  "<u1": { dtype: "uint8", bytes: 1, littleEndian: true },
  ">u1": { dtype: "uint8", bytes: 1, littleEndian: true },
};

export interface ParseNpyOptions {
  /** Refuse arrays with more elements than this (checked from the header, before reading data). */
  readonly maxElements?: number;
}

export function parseNpy(bytes: Uint8Array, options: ParseNpyOptions = {}): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyError("bad_magic", "not a .npy file: it does not start with \\x93NUMPY");
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3) {
    throw new NpyError(
      "unsupported_version",
      `.npy format version ${major}.${minor} is not supported (1.0 to 3.0)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes)
    throw new NpyError("truncated", ".npy file ends inside its header length");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  if (headerLength > MAX_HEADER_CHARS) {
    throw new NpyError(
      "bad_header",
      `.npy header is ${headerLength} bytes; at most ${MAX_HEADER_CHARS} are accepted`,
    );
  }
  if (bytes.length < headerStart + headerLength) {
    throw new NpyError("truncated", `.npy file ends inside its ${headerLength}-byte header`);
  }
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
  const header = major === 3 ? new TextDecoder("utf-8").decode(headerBytes) : latin1(headerBytes);
  const { descr, fortranOrder, shape } = parseHeader(header);

  const type = DTYPES[descr];
  if (!type) {
    throw new NpyError(
      "unsupported_dtype",
      `.npy dtype ${JSON.stringify(descr.slice(0, 40))} is not supported: use float32 ('<f4'), float64 ('<f8') or uint8 ('|u1')`,
    );
  }
  if (fortranOrder) {
    throw new NpyError(
      "fortran_order",
      ".npy array is in Fortran order: save it in C order (np.ascontiguousarray)",
    );
  }
  let count = 1;
  for (const d of shape) count *= d;
  if (options.maxElements !== undefined && count > options.maxElements) {
    throw new NpyError(
      "too_large",
      `.npy array has ${count} elements; at most ${options.maxElements} are accepted`,
    );
  }
  const dataStart = headerStart + headerLength;
  const expected = count * type.bytes;
  const available = bytes.length - dataStart;
  if (available < expected) {
    throw new NpyError(
      "truncated",
      `.npy data is truncated: shape (${shape.join(", ")}) of ${type.dtype} needs ${expected} bytes, the file has ${available}`,
    );
  }
  if (available > expected) {
    throw new NpyError(
      "trailing_bytes",
      `.npy file has ${available - expected} bytes after the data of shape (${shape.join(", ")}): not a single array`,
    );
  }
  return { dtype: type.dtype, shape, data: readData(view, dataStart, count, type) };
}

function readData(
  view: DataView,
  start: number,
  count: number,
  type: { dtype: NpyDtype; bytes: number; littleEndian: boolean },
): NpyData {
  // DataView reads work at any alignment and either byte order; a batch is at most a few million values.
  switch (type.dtype) {
    case "uint8":
      return new Uint8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + count));
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, type.littleEndian);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, type.littleEndian);
      return out;
    }
  }
}

function parseHeader(header: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const text = header.trim();
  if (!text.startsWith("{") || !text.endsWith("}")) {
    throw new NpyError("bad_header", ".npy header is not a dictionary literal");
  }
  const descrMatch = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  if (!descrMatch) {
    // A list here is a structured dtype; anything else is not numpy's format.
    if (/['"]descr['"]\s*:\s*\[/.test(text)) {
      throw new NpyError(
        "unsupported_dtype",
        ".npy has a structured dtype: only plain numeric arrays are supported",
      );
    }
    throw new NpyError("bad_header", ".npy header has no 'descr'");
  }
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!fortranMatch) throw new NpyError("bad_header", ".npy header has no 'fortran_order'");
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shapeMatch) throw new NpyError("bad_header", ".npy header has no 'shape' tuple");
  const parts = shapeMatch[1]!
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const shape = parts.map((p) => {
    // Python 2 wrote longs as "3L".
    const digits = p.endsWith("L") ? p.slice(0, -1) : p;
    if (!/^\d{1,12}$/.test(digits))
      throw new NpyError("bad_header", `.npy shape has a bad dimension "${p.slice(0, 20)}"`);
    return Number(digits);
  });
  return { descr: descrMatch[2]!, fortranOrder: fortranMatch[1] === "True", shape };
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** The values as float32 (what a model's input takes); a float32 array is returned as is. */
export function npyToFloat32(array: NpyArray): Float32Array {
  return array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
}

/** A version 1.0 .npy file (little-endian, C order), as numpy.save writes it. */
export function writeNpy(data: NpyData, shape: readonly number[]): Uint8Array<ArrayBuffer> {
  let count = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new NpyError("bad_header", `shape has a bad dimension ${d}`);
    count *= d;
  }
  if (count !== data.length) {
    throw new NpyError(
      "bad_header",
      `shape (${shape.join(", ")}) holds ${count} values, the data has ${data.length}`,
    );
  }
  const descr = data instanceof Float32Array ? "<f4" : data instanceof Float64Array ? "<f8" : "|u1";
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces so magic + version + length + header + "\n" is a multiple of 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  if (header.length > 0xffff) throw new NpyError("bad_header", "shape too long for a version 1.0 header");
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  if (data instanceof Uint8Array) out.set(data, start);
  else if (data instanceof Float32Array)
    for (let i = 0; i < data.length; i++) view.setFloat32(start + 4 * i, data[i]!, true);
  else for (let i = 0; i < data.length; i++) view.setFloat64(start + 8 * i, data[i]!, true);
  return out;
}
