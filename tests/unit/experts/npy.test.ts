import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  NpyError,
  npyToFloat32,
  parseNpy,
  writeNpy,
  type NpyErrorCode,
} from "../../../src/core/formats/npy.ts";

// Written by numpy 2.4 (`np.save` to a BytesIO, then .hex()): the parser is checked against the real thing.
const NUMPY_F4_2X2 =
  "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f000000c00000404000008040";
const NUMPY_U1_3 =
  "934e554d5059010076007b276465736372273a20277c7531272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0102ff";
const NUMPY_BE_F8_2X2 =
  "934e554d5059010076007b276465736372273a20273e6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a3ff4000000000000400000000000000040080000000000004010000000000000";
const NUMPY_FORTRAN =
  "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028322c2032292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000803f000040400000004000008040";
const NUMPY_SCALAR =
  "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000e040";

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));

function codeOf(fn: () => unknown): NpyErrorCode | "no error" {
  try {
    fn();
    return "no error";
  } catch (error) {
    if (error instanceof NpyError) return error.code;
    throw error;
  }
}

/** A v1 file with an arbitrary header text (padded like numpy's) and data bytes. */
function handMade(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const padded = header + " ".repeat((64 - ((8 + lengthBytes + header.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(8 + lengthBytes + padded.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[8 + lengthBytes + i] = padded.charCodeAt(i);
  out.set(data, 8 + lengthBytes + padded.length);
  return out;
}

describe("parseNpy on files numpy wrote", () => {
  it("reads float32 [2, 2] in C order", () => {
    const a = parseNpy(hex(NUMPY_F4_2X2));
    expect(a.dtype).toBe("float32");
    expect(a.shape).toEqual([2, 2]);
    expect([...a.data]).toEqual([1.5, -2, 3, 4]);
  });

  it("reads uint8 with a one-element tuple shape", () => {
    const a = parseNpy(hex(NUMPY_U1_3));
    expect(a).toMatchObject({ dtype: "uint8", shape: [3] });
    expect([...a.data]).toEqual([1, 2, 255]);
    expect([...npyToFloat32(a)]).toEqual([1, 2, 255]);
  });

  it("reads big-endian float64", () => {
    const a = parseNpy(hex(NUMPY_BE_F8_2X2));
    expect(a.dtype).toBe("float64");
    expect([...a.data]).toEqual([1.25, 2, 3, 4]);
  });

  it("reads a scalar (shape ())", () => {
    const a = parseNpy(hex(NUMPY_SCALAR));
    expect(a.shape).toEqual([]);
    expect([...a.data]).toEqual([7]);
  });

  it("works on a view that does not start at its buffer's first byte (unaligned data)", () => {
    const file = hex(NUMPY_F4_2X2);
    const host = new Uint8Array(file.length + 3);
    host.set(file, 3);
    expect([...parseNpy(host.subarray(3)).data]).toEqual([1.5, -2, 3, 4]);
  });
});

describe("parseNpy refuses bad files with specific codes", () => {
  it("bad magic (a PNG, an empty file, text)", () => {
    expect(codeOf(() => parseNpy(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0])))).toBe(
      "bad_magic",
    );
    expect(codeOf(() => parseNpy(new Uint8Array(0)))).toBe("bad_magic");
    expect(codeOf(() => parseNpy(new TextEncoder().encode('{"shape":[1,2],"data":[1,2]}')))).toBe(
      "bad_magic",
    );
  });

  it("fortran order", () => {
    const error = (() => {
      try {
        parseNpy(hex(NUMPY_FORTRAN));
      } catch (e) {
        return e as NpyError;
      }
      return undefined;
    })();
    expect(error?.code).toBe("fortran_order");
    expect(error?.message).toContain("C order");
  });

  it("unsupported dtypes: int64, complex, structured, object", () => {
    for (const descr of ["'<i8'", "'<c8'", "'|O'", "'<f2'"]) {
      const file = handMade(
        `{'descr': ${descr}, 'fortran_order': False, 'shape': (1,), }`,
        new Uint8Array(16),
      );
      expect(
        codeOf(() => parseNpy(file)),
        descr,
      ).toBe("unsupported_dtype");
    }
    const structured = handMade(
      "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
    );
    expect(codeOf(() => parseNpy(structured))).toBe("unsupported_dtype");
  });

  it("truncated data, truncated header, trailing bytes", () => {
    const full = hex(NUMPY_F4_2X2);
    expect(codeOf(() => parseNpy(full.subarray(0, full.length - 1)))).toBe("truncated");
    expect(codeOf(() => parseNpy(full.subarray(0, 40)))).toBe("truncated");
    const longer = new Uint8Array(full.length + 4);
    longer.set(full);
    expect(codeOf(() => parseNpy(longer))).toBe("trailing_bytes");
  });

  it("unsupported version and malformed headers", () => {
    const v9 = hex(NUMPY_F4_2X2);
    v9[6] = 9;
    expect(codeOf(() => parseNpy(v9))).toBe("unsupported_version");
    expect(codeOf(() => parseNpy(handMade("not a dict")))).toBe("bad_header");
    expect(codeOf(() => parseNpy(handMade("{'descr': '<f4', 'shape': (1,), }")))).toBe("bad_header");
    expect(
      codeOf(() => parseNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"))),
    ).toBe("bad_header");
  });

  it("too many elements, checked from the header before the data is read", () => {
    const file = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 784), }");
    expect(codeOf(() => parseNpy(file, { maxElements: 1_000_000 }))).toBe("too_large");
  });

  it("reads version 2 headers (u32 header length)", () => {
    const data = new Uint8Array(new Float32Array([0.5, 0.25]).buffer);
    const a = parseNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", data, 2));
    expect([...a.data]).toEqual([0.5, 0.25]);
  });
});

describe("writeNpy", () => {
  it("writes what numpy writes for the same array (same header fields, 64-byte aligned data)", () => {
    const bytes = writeNpy(new Float32Array([1.5, -2, 3, 4]), [2, 2]);
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes[10 + headerLength - 1]).toBe(0x0a);
    // numpy pads its header further (room to grow the shape); the data bytes are the same.
    expect([...bytes.subarray(10 + headerLength)]).toEqual([...hex(NUMPY_F4_2X2).subarray(128)]);
  });

  it("round-trips float32, float64 and uint8 of any shape", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
        fc.constantFrom("float32", "float64", "uint8"),
        (shape, dtype) => {
          const count = shape.reduce((a, b) => a * b, 1);
          const values = Array.from({ length: count }, (_, i) =>
            dtype === "uint8" ? i % 256 : i * 0.37 - 3,
          );
          const data =
            dtype === "float32"
              ? Float32Array.from(values)
              : dtype === "float64"
                ? Float64Array.from(values)
                : Uint8Array.from(values);
          const back = parseNpy(writeNpy(data, shape));
          expect(back.dtype).toBe(dtype);
          expect(back.shape).toEqual(shape);
          expect([...back.data]).toEqual([...data]);
        },
      ),
    );
  });

  it("refuses a shape that does not match the data", () => {
    expect(codeOf(() => writeNpy(new Float32Array(6), [2, 2]))).toBe("bad_header");
  });
});
