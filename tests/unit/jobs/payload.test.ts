import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isJobError } from "../../../src/core/protocol/job-errors.ts";
import {
  blobRefOf,
  csrByteLength,
  decodeCsr,
  decodeVector,
  encodeCsr,
  encodeVector,
} from "../../../src/core/jobs/payload.ts";
import { loadMatrix } from "./helpers.ts";

function codeOf(f: () => unknown): string {
  try {
    f();
    return "no error";
  } catch (e) {
    return isJobError(e) ? e.code : String(e);
  }
}

describe("payload encoding", () => {
  const a = loadMatrix("bcsstk13");

  it("round-trips a real matrix and vectors exactly, also from an unaligned view", () => {
    const bytes = encodeCsr(a);
    expect(bytes.byteLength).toBe(csrByteLength(a.rows, a.rowPtr[a.rows]!));
    const back = decodeCsr(bytes);
    expect(back.rows).toBe(a.rows);
    expect(back.cols).toBe(a.cols);
    expect(back.rowPtr).toEqual(a.rowPtr);
    expect(back.colIdx).toEqual(a.colIdx);
    expect(back.values).toEqual(a.values);

    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    expect(decodeCsr(shifted.subarray(3)).values).toEqual(a.values);

    const x = Float64Array.from([1.5, -0, 1e-300, -7e300]);
    const xb = encodeVector(x);
    expect(decodeVector(xb, 4)).toEqual(x);
    expect(Object.is(decodeVector(xb)[1], -0)).toBe(true);
  });

  it("rejects corrupt or hostile matrix payloads with a specific code before anything runs", () => {
    const good = encodeCsr(a);
    const mutate = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
      const b = good.slice();
      f(b, new DataView(b.buffer));
      return b;
    };
    const nnz = a.rowPtr[a.rows]!;
    const colOffset = 24 + 4 * (a.rows + 1);
    const valuesOffset = (colOffset + 4 * nnz + 7) & ~7;
    const cases: [string, Uint8Array][] = [
      ["bad_magic", mutate((b) => (b[0] = 0))],
      ["bad_magic", mutate((b) => (b[5] = 2))], // a future version
      ["truncated", good.subarray(0, good.length - 8)],
      ["truncated", good.subarray(0, 12)],
      ["size_mismatch", Uint8Array.from([...good, 0, 0, 0, 0, 0, 0, 0, 0])],
      ["too_large", mutate((_, v) => v.setUint32(16, 0xffffffff, true))],
      ["bad_row_pointers", mutate((_, v) => v.setInt32(24 + 4 * 5, 1 << 30, true))],
      ["bad_row_pointers", mutate((_, v) => v.setInt32(24, 1, true))],
      ["bad_column_index", mutate((_, v) => v.setInt32(colOffset, a.cols, true))],
      ["bad_column_index", mutate((_, v) => v.setInt32(colOffset, -1, true))],
      ["bad_column_index", mutate((_, v) => v.setInt32(colOffset + 4, v.getInt32(colOffset, true), true))],
      ["non_finite_value", mutate((_, v) => v.setFloat64(valuesOffset + 8 * 9, NaN, true))],
    ];
    expect(cases.map(([, b]) => codeOf(() => decodeCsr(b)))).toEqual(cases.map(([c]) => c));
    expect(codeOf(() => decodeCsr(good, { maxRows: 100, maxNnz: 1e9 }))).toBe("too_large");
  });

  it("rejects bad vectors", () => {
    const good = encodeVector(Float64Array.from([1, 2, 3]));
    const nan = good.slice();
    new DataView(nan.buffer).setFloat64(16 + 8, Infinity, true);
    expect(codeOf(() => decodeVector(good, 4))).toBe("size_mismatch");
    expect(codeOf(() => decodeVector(good.subarray(0, 20)))).toBe("truncated");
    expect(codeOf(() => decodeVector(nan))).toBe("non_finite_value");
    expect(codeOf(() => decodeVector(encodeCsr(a)))).toBe("bad_magic");
  });

  it("never throws anything but a JobError on random bytes (fast-check)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (raw, withMagic) => {
        const bytes = withMagic ? Uint8Array.from([0x4f, 0x53, 0x43, 0x53, 0x52, 1, 0, 0, ...raw]) : raw;
        for (const decode of [() => decodeCsr(bytes), () => decodeVector(bytes)]) {
          try {
            decode();
          } catch (e) {
            expect(isJobError(e)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("addresses payloads by SHA-256", async () => {
    const bytes = encodeVector(Float64Array.from([1, 2, 3]));
    const ref = await blobRefOf(bytes);
    expect(ref).toEqual({
      sha256: createHash("sha256").update(bytes).digest("hex"),
      byteLength: bytes.byteLength,
    });
  });
});
