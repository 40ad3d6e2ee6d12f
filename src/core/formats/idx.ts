import { CodedError } from "../base/coded-error.ts";
/**
 * IDX files (the format MNIST and Fashion-MNIST ship in): a 4-byte magic [0, 0, type, dims], `dims` big-endian
 * uint32 sizes, then the values row-major. Only unsigned bytes (type 0x08) are accepted: images are IDX3
 * [count, rows, cols] and labels IDX1 [count]. The input is the *decompressed* bytes: gunzip at the call site
 * (node:zlib in Node, DecompressionStream in a tab), so this file runs anywhere.
 */

export type IdxErrorCode =
  | "gzipped"
  | "too_short"
  | "bad_magic"
  | "unsupported_type"
  | "wrong_dims"
  | "truncated"
  | "trailing_bytes"
  | "too_large"
  | "label_out_of_range";

export class IdxError extends CodedError<IdxErrorCode> {
  override readonly name = "IdxError";
}

const UBYTE = 0x08;
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: "ubyte",
  0x09: "sbyte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};
/** Refuse absurd headers before allocating anything (a 1 GiB IDX is not an upload we serve). */
const MAX_VALUES = 1 << 30;

export interface IdxUbyte {
  readonly dims: readonly number[];
  /** A view into the input bytes (no copy). */
  readonly data: Uint8Array;
}

/** Parses any ubyte IDX file; `expectDims` (if given) is the required number of dimensions. */
export function parseIdx(bytes: Uint8Array, expectDims?: number): IdxUbyte {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new IdxError(
      "gzipped",
      "the file is gzip-compressed: decompress it before parsing (e.g. .gz upload)",
    );
  }
  if (bytes.length < 4)
    throw new IdxError("too_short", `an IDX file has at least 4 bytes, got ${bytes.length}`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(
      "bad_magic",
      `not an IDX file: magic starts with 0x${hex(bytes[0]!)}${hex(bytes[1]!)}, expected 0x0000`,
    );
  }
  const type = bytes[2]!;
  const dimCount = bytes[3]!;
  if (type !== UBYTE) {
    const name = TYPE_NAMES[type];
    throw new IdxError(
      name ? "unsupported_type" : "bad_magic",
      name
        ? `IDX values are ${name}; only ubyte (0x08) is supported`
        : `not an IDX file: unknown value type 0x${hex(type)}`,
    );
  }
  if (dimCount === 0) throw new IdxError("wrong_dims", "IDX header declares 0 dimensions");
  if (expectDims !== undefined && dimCount !== expectDims) {
    throw new IdxError("wrong_dims", `expected an IDX${expectDims} file, got IDX${dimCount}`);
  }
  const headerBytes = 4 + 4 * dimCount;
  if (bytes.length < headerBytes) {
    throw new IdxError("truncated", `header needs ${headerBytes} bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let values = 1;
  for (let d = 0; d < dimCount; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    values *= size;
    if (values > MAX_VALUES) {
      throw new IdxError("too_large", `IDX dims [${dims.join(", ")}…] exceed ${MAX_VALUES} values`);
    }
  }
  const available = bytes.length - headerBytes;
  if (available < values) {
    throw new IdxError(
      "truncated",
      `IDX dims [${dims.join(", ")}] need ${values} data bytes, file has ${available}`,
    );
  }
  if (available > values) {
    throw new IdxError(
      "trailing_bytes",
      `IDX dims [${dims.join(", ")}] need ${values} data bytes, file has ${available} (extra data)`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + values) };
}

export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** [count, rows·cols] bytes, row-major (a view into the input). */
  readonly pixels: Uint8Array;
}

/** An IDX3 ubyte image file; `expectSize` (e.g. {rows: 28, cols: 28}) is checked when given. */
export function parseIdxImages(
  bytes: Uint8Array,
  expectSize?: { readonly rows: number; readonly cols: number },
): IdxImages {
  const { dims, data } = parseIdx(bytes, 3);
  const [count, rows, cols] = dims as [number, number, number];
  if (expectSize && (rows !== expectSize.rows || cols !== expectSize.cols)) {
    throw new IdxError(
      "wrong_dims",
      `images are ${rows}×${cols}, expected ${expectSize.rows}×${expectSize.cols}`,
    );
  }
  return { count, rows, cols, pixels: data };
}

/** An IDX1 ubyte label file; every label must be below `classes`. */
export function parseIdxLabels(bytes: Uint8Array, classes: number): Uint8Array {
  const { data } = parseIdx(bytes, 1);
  for (let i = 0; i < data.length; i++) {
    if (data[i]! >= classes) {
      throw new IdxError("label_out_of_range", `label ${i} is ${data[i]}, expected 0..${classes - 1}`);
    }
  }
  return data;
}

/** Pixels as the models' input: float32 pixel/255, [count, rows·cols]. */
export function pixelsToInput(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return out;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
