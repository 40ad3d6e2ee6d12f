import { describe, expect, it } from "vitest";
import { writeNpy } from "../../../src/core/formats/npy.ts";
import {
  BatchError,
  checkBatchFits,
  looksLikeOnnx,
  MAX_BATCH_FILE_BYTES,
  parseInputBatch,
  type BatchErrorCode,
} from "../../../src/state/experts/batch.ts";

const text = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): BatchErrorCode | "no error" {
  try {
    fn();
    return "no error";
  } catch (error) {
    if (error instanceof BatchError) return error.code;
    throw error;
  }
}

describe("parseInputBatch (the generic job's input file)", () => {
  it("reads JSON with flat data", () => {
    const b = parseInputBatch("x.json", text('{"shape": [2, 3], "data": [1, 2, 3, 4, 5, 6.5]}'));
    expect(b).toMatchObject({ rows: 2, cols: 3, shape: [2, 3], format: "json" });
    expect([...b.data]).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it("reads JSON with nested data that follows the shape", () => {
    const b = parseInputBatch(
      "x.json",
      text('{"shape": [2, 2, 2], "data": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}'),
    );
    expect(b).toMatchObject({ rows: 2, cols: 4 });
    expect([...b.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("reads .npy (float32, float64 and uint8 become float32 rows)", () => {
    const f64 = parseInputBatch("x.npy", writeNpy(Float64Array.from([0.5, 1.5, 2.5, 3.5]), [2, 2]));
    expect(f64).toMatchObject({ rows: 2, cols: 2, format: "npy" });
    expect(f64.data).toBeInstanceOf(Float32Array);
    expect([...f64.data]).toEqual([0.5, 1.5, 2.5, 3.5]);
    const u8 = parseInputBatch("pixels.bin", writeNpy(Uint8Array.from([0, 255, 7]), [1, 3]));
    expect([...u8.data]).toEqual([0, 255, 7]);
  });

  it("says what is wrong with bad files", () => {
    expect(codeOf(() => parseInputBatch("x.json", text("not json")))).toBe("bad_file");
    expect(codeOf(() => parseInputBatch("x.json", text('{"data": [1]}')))).toBe("bad_file");
    expect(codeOf(() => parseInputBatch("x.json", text('{"shape": [3], "data": [1, 2, 3]}')))).toBe(
      "bad_file",
    );
    expect(codeOf(() => parseInputBatch("x.json", text('{"shape": [1, 2], "data": [1, "a"]}')))).toBe(
      "bad_file",
    );
    expect(codeOf(() => parseInputBatch("x.npy", text("{}")))).toBe("bad_file");
    expect(codeOf(() => parseInputBatch("x.npy", writeNpy(new Float32Array([NaN, 1]), [1, 2])))).toBe(
      "bad_file",
    );
  });

  it("says when the data does not match the shape", () => {
    expect(codeOf(() => parseInputBatch("x.json", text('{"shape": [2, 2], "data": [1, 2, 3]}')))).toBe(
      "bad_shape",
    );
    expect(codeOf(() => parseInputBatch("x.json", text('{"shape": [2, 2], "data": [1, 2, 3, 4, 5]}')))).toBe(
      "bad_shape",
    );
    expect(codeOf(() => parseInputBatch("x.json", text('{"shape": [2, 2], "data": [[1, 2], [3]]}')))).toBe(
      "bad_shape",
    );
    expect(codeOf(() => parseInputBatch("x.npy", writeNpy(new Float32Array(3), [3])))).toBe("bad_shape");
  });

  it("refuses files and shapes that are too large, before allocating", () => {
    expect(codeOf(() => parseInputBatch("big.json", new Uint8Array(MAX_BATCH_FILE_BYTES + 1)))).toBe(
      "too_large",
    );
    expect(codeOf(() => parseInputBatch("x.json", text('{"shape": [100000, 100000], "data": []}')))).toBe(
      "too_large",
    );
  });
});

describe("checkBatchFits", () => {
  const batch = parseInputBatch("x.json", text('{"shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}'));

  it("accepts a batch whose rows have the model's width", () => {
    expect(() => checkBatchFits(batch, { inputName: "x", inputCols: 3 })).not.toThrow();
    expect(() => checkBatchFits(batch, { inputName: "x", inputCols: 0 })).not.toThrow();
  });

  it("names expected and given on a wrong shape", () => {
    try {
      checkBatchFits(batch, { inputName: "pixels", inputCols: 784 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BatchError);
      expect((error as BatchError).code).toBe("bad_shape");
      expect((error as BatchError).message).toContain("784");
      expect((error as BatchError).message).toContain("[2, 3]");
    }
    expect(codeOf(() => checkBatchFits(batch, { inputName: "x", inputCols: 3, fixedRows: 1 }))).toBe(
      "bad_shape",
    );
  });
});

describe("looksLikeOnnx", () => {
  it("accepts a ModelProto's first bytes and refuses the usual wrong uploads", () => {
    expect(
      looksLikeOnnx(Uint8Array.from([0x08, 0x07, 0x12, 0x04, ...text("test"), 0x3a, 0, 0, 0, 0, 0, 0, 0, 0])),
    ).toBe(true);
    expect(
      looksLikeOnnx(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82])),
    ).toBe(false);
    expect(looksLikeOnnx(text('{"not": "a model", "x": 1}'))).toBe(false);
    expect(looksLikeOnnx(text("garbage garbage garbage"))).toBe(false);
    expect(looksLikeOnnx(new Uint8Array(4))).toBe(false);
  });
});
