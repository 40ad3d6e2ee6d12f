/**
 * A minimal reader of the protobuf wire format (varints, fixed32/64, length-delimited fields), enough to walk
 * an ONNX ModelProto (onnx-model.ts) before any runtime sees it. Why not a library: onnxruntime-web exposes
 * no parser, and the protobuf libraries in the tree (protobufjs, under the onnx-proto dev dependency) are
 * not runtime dependencies; adding one plus the ONNX schema to the app bundle to read ~30 fields was not
 * worth it. Every read is bounds-checked and a malformed buffer throws ProtoError, never anything else.
 */

export class ProtoError extends Error {
  override readonly name = "ProtoError";
}

/** Wire types (protobuf encoding spec). */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export interface ProtoField {
  readonly field: number;
  readonly wire: number;
  /** varint / fixed values (int64 beyond 2^53 lose precision: only magnitudes matter here). */
  readonly value: number;
  /** Length-delimited payload (a view, not a copy). */
  readonly bytes: Uint8Array | null;
}

/** Calls `each` for every field of one message, in order. */
export function readFields(buf: Uint8Array, each: (f: ProtoField) => void): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const varint = (): number => {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= buf.length) throw new ProtoError("truncated varint");
      const b = buf[pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if ((b & 0x80) === 0) return toNumber(lo >>> 0, hi >>> 0);
    }
    throw new ProtoError("varint longer than 10 bytes");
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field < 1) throw new ProtoError("field number 0");
    if (wire === WIRE.varint) each({ field, wire, value: varint(), bytes: null });
    else if (wire === WIRE.fixed64) {
      if (pos + 8 > buf.length) throw new ProtoError("truncated fixed64");
      each({ field, wire, value: view.getFloat64(pos, true), bytes: null });
      pos += 8;
    } else if (wire === WIRE.fixed32) {
      if (pos + 4 > buf.length) throw new ProtoError("truncated fixed32");
      each({ field, wire, value: view.getFloat32(pos, true), bytes: null });
      pos += 4;
    } else if (wire === WIRE.bytes) {
      const length = varint();
      if (length < 0 || pos + length > buf.length) throw new ProtoError("length past the end of the message");
      each({ field, wire, value: length, bytes: buf.subarray(pos, pos + length) });
      pos += length;
    } else throw new ProtoError(`unsupported wire type ${wire}`);
  }
}

/** A repeated integer field: packed (one length-delimited run of varints) or one value per field. */
export function packedVarints(f: ProtoField, out: number[], max: number): void {
  if (f.wire === WIRE.varint) {
    out.push(f.value);
  } else if (f.bytes) {
    const bytes = f.bytes;
    let pos = 0;
    while (pos < bytes.length) {
      let lo = 0;
      let hi = 0;
      let done = false;
      for (let shift = 0; shift < 70 && !done; shift += 7) {
        if (pos >= bytes.length) throw new ProtoError("truncated packed varint");
        const b = bytes[pos++]!;
        if (shift < 28) lo |= (b & 0x7f) << shift;
        else if (shift === 28) {
          lo |= (b & 0x0f) << 28;
          hi |= (b & 0x7f) >> 4;
        } else hi |= (b & 0x7f) << (shift - 32);
        done = (b & 0x80) === 0;
      }
      if (!done) throw new ProtoError("packed varint longer than 10 bytes");
      out.push(toNumber(lo >>> 0, hi >>> 0));
      if (out.length > max) throw new ProtoError(`more than ${max} values in a repeated field`);
    }
  }
  if (out.length > max) throw new ProtoError(`more than ${max} values in a repeated field`);
}

export function utf8(bytes: Uint8Array | null): string {
  return bytes ? new TextDecoder("utf-8", { fatal: false }).decode(bytes) : "";
}

/** Two's-complement int64 from its halves, as a number. */
function toNumber(lo: number, hi: number): number {
  if (hi >= 0x80000000) return -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1);
  return hi * 2 ** 32 + lo;
}
