import type { CsrMatrix } from "../sparse/csr.ts";
import { DEFAULT_INPUT_LIMITS, type InputLimits } from "../sparse/errors.ts";
import { JobError } from "../protocol/job-errors.ts";
import { toHex } from "../base/encoding.ts";

/**
 * Binary encodings of a unit's inputs and outputs as they travel in peer-protocol blobs (and as the
 * requester stores them for resume). Little-endian, 8-byte aligned sections, a magic and a version:
 *
 *   matrix: "OSCSR" 1 0 0 | rows u32 | cols u32 | nnz u32 | 0 u32 | rowPtr i32[rows+1] | colIdx i32[nnz]
 *           | zero padding to 8 | values f64[nnz]
 *   vector: "OSVEC" 1 0 0 | length u32 | 0 u32 | values f64[length]
 *
 * Decoding validates everything a kernel relies on (CSR invariants, finiteness, sizes against limits)
 * before the volunteer runs anything: a unit whose input fails here is answered with a unit-error
 * "invalid_input", never run. Decoding copies into fresh, aligned typed arrays.
 */

const CSR_MAGIC = [0x4f, 0x53, 0x43, 0x53, 0x52, 1, 0, 0]; // "OSCSR" v1
const VEC_MAGIC = [0x4f, 0x53, 0x56, 0x45, 0x43, 1, 0, 0]; // "OSVEC" v1
const CSR_HEADER_BYTES = 24;
const VEC_HEADER_BYTES = 16;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndian(): void {
  // Typed arrays use the host's byte order; every browser and Node platform in use is little-endian.
  if (!LITTLE_ENDIAN_HOST)
    throw new JobError("unsupported_host", "payload encoding needs a little-endian host");
}

const align8 = (n: number): number => (n + 7) & ~7;

export function csrByteLength(rows: number, nnz: number): number {
  return align8(CSR_HEADER_BYTES + 4 * (rows + 1 + nnz)) + 8 * nnz;
}

export function encodeCsr(a: CsrMatrix): Uint8Array<ArrayBuffer> {
  requireLittleEndian();
  const nnz = a.rowPtr[a.rows] ?? 0;
  const out = new Uint8Array(csrByteLength(a.rows, nnz));
  out.set(CSR_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, a.rows, true);
  view.setUint32(12, a.cols, true);
  view.setUint32(16, nnz, true);
  let off = CSR_HEADER_BYTES;
  new Int32Array(out.buffer, off, a.rows + 1).set(a.rowPtr.subarray(0, a.rows + 1));
  off += 4 * (a.rows + 1);
  new Int32Array(out.buffer, off, nnz).set(a.colIdx.subarray(0, nnz));
  off = align8(off + 4 * nnz);
  new Float64Array(out.buffer, off, nnz).set(a.values.subarray(0, nnz));
  return out;
}

function checkMagic(bytes: Uint8Array, magic: readonly number[], what: string): void {
  if (bytes.length < magic.length || magic.some((m, i) => bytes[i] !== m)) {
    throw new JobError("bad_magic", `not an Open-Swarm ${what} payload (or an unsupported version)`);
  }
}

/** A copy of bytes [offset, offset + length) in a fresh buffer (the input may be unaligned). */
function copyOut(bytes: Uint8Array, offset: number, length: number): ArrayBuffer {
  return bytes.slice(offset, offset + length).buffer;
}

export function decodeCsr(bytes: Uint8Array, limits: InputLimits = DEFAULT_INPUT_LIMITS): CsrMatrix {
  requireLittleEndian();
  checkMagic(bytes, CSR_MAGIC, "matrix");
  if (bytes.length < CSR_HEADER_BYTES) throw new JobError("truncated", "matrix header is truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows = view.getUint32(8, true);
  const cols = view.getUint32(12, true);
  const nnz = view.getUint32(16, true);
  if (Math.max(rows, cols) > limits.maxRows || nnz > limits.maxNnz) {
    throw new JobError(
      "too_large",
      `matrix is ${rows}×${cols} with ${nnz} nonzeros; limits are ${limits.maxRows} rows, ${limits.maxNnz} nonzeros`,
    );
  }
  if (rows < 1 || cols < 1) throw new JobError("size_mismatch", `matrix is ${rows}×${cols}`);
  const expected = csrByteLength(rows, nnz);
  if (bytes.length !== expected) {
    throw new JobError(
      bytes.length < expected ? "truncated" : "size_mismatch",
      `a ${rows}×${cols} matrix with ${nnz} nonzeros takes ${expected} bytes, got ${bytes.length}`,
    );
  }
  let off = CSR_HEADER_BYTES;
  const rowPtr = new Int32Array(copyOut(bytes, off, 4 * (rows + 1)));
  off += 4 * (rows + 1);
  const colIdx = new Int32Array(copyOut(bytes, off, 4 * nnz));
  off = align8(off + 4 * nnz);
  const values = new Float64Array(copyOut(bytes, off, 8 * nnz));

  if (rowPtr[0] !== 0 || rowPtr[rows] !== nnz) {
    throw new JobError("bad_row_pointers", `row pointers must run from 0 to ${nnz}`);
  }
  for (let i = 0; i < rows; i++) {
    const start = rowPtr[i]!;
    const end = rowPtr[i + 1]!;
    if (end < start || end > nnz) {
      throw new JobError("bad_row_pointers", `row pointer ${i + 1} (${end}) is outside [${start}, ${nnz}]`);
    }
    let prev = -1;
    for (let p = start; p < end; p++) {
      const c = colIdx[p]!;
      if (c <= prev || c >= cols) {
        throw new JobError(
          "bad_column_index",
          `row ${i}: column ${c} is ${c >= cols ? `out of range [0, ${cols})` : "not strictly increasing"}`,
        );
      }
      prev = c;
    }
  }
  for (let p = 0; p < nnz; p++) {
    if (!Number.isFinite(values[p]!)) {
      throw new JobError("non_finite_value", `matrix value #${p} is ${values[p]}`);
    }
  }
  return { rows, cols, rowPtr, colIdx, values };
}

export function vectorByteLength(length: number): number {
  return VEC_HEADER_BYTES + 8 * length;
}

export function encodeVector(x: Float64Array): Uint8Array<ArrayBuffer> {
  requireLittleEndian();
  const out = new Uint8Array(vectorByteLength(x.length));
  out.set(VEC_MAGIC, 0);
  new DataView(out.buffer).setUint32(8, x.length, true);
  new Float64Array(out.buffer, VEC_HEADER_BYTES, x.length).set(x);
  return out;
}

/** `expectedLength` (when given) must match: a solution of the wrong size is rejected before use. */
export function decodeVector(
  bytes: Uint8Array,
  expectedLength?: number,
  limits: InputLimits = DEFAULT_INPUT_LIMITS,
): Float64Array {
  requireLittleEndian();
  checkMagic(bytes, VEC_MAGIC, "vector");
  if (bytes.length < VEC_HEADER_BYTES) throw new JobError("truncated", "vector header is truncated");
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (length > limits.maxRows) {
    throw new JobError("too_large", `vector has ${length} entries; the limit is ${limits.maxRows}`);
  }
  if (expectedLength !== undefined && length !== expectedLength) {
    throw new JobError("size_mismatch", `vector has ${length} entries, expected ${expectedLength}`);
  }
  const want = vectorByteLength(length);
  if (bytes.length !== want) {
    throw new JobError(
      bytes.length < want ? "truncated" : "size_mismatch",
      `a vector of ${length} entries takes ${want} bytes, got ${bytes.length}`,
    );
  }
  const x = new Float64Array(copyOut(bytes, VEC_HEADER_BYTES, 8 * length));
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(x[i]!)) throw new JobError("non_finite_value", `vector entry ${i} is ${x[i]}`);
  }
  return x;
}

/** The content address of a payload: SHA-256 (WebCrypto, available in tabs, workers and Node). */
export async function blobRefOf(
  bytes: Uint8Array<ArrayBuffer>,
): Promise<{ sha256: string; byteLength: number }> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return { sha256: toHex(digest), byteLength: bytes.byteLength };
}
