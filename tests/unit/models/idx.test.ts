import { existsSync, readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  IdxError,
  parseIdx,
  parseIdxImages,
  parseIdxLabels,
  pixelsToInput,
  type IdxErrorCode,
} from "../../../src/core/formats/idx.ts";
import { FASHION_TEST_IMAGES } from "../../../src/node/fashion-mnist.ts";

function idx(type: number, dims: number[], data: number[] | Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

function codeOf(fn: () => unknown): IdxErrorCode | "no error" {
  try {
    fn();
  } catch (error) {
    if (error instanceof IdxError) return error.code;
    throw error;
  }
  return "no error";
}

describe("IDX parser", () => {
  it("parses ubyte images and labels, big-endian dims, as views", () => {
    const pixels = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];
    const images = parseIdxImages(idx(0x08, [2, 2, 3], pixels), { rows: 2, cols: 3 });
    expect(images).toMatchObject({ count: 2, rows: 2, cols: 3 });
    expect([...images.pixels]).toEqual(pixels);
    const labels = parseIdxLabels(idx(0x08, [3], [0, 9, 4]), 10);
    expect([...labels]).toEqual([0, 9, 4]);
    const big = parseIdx(idx(0x08, [0x0102], new Uint8Array(0x0102)));
    expect(big.dims).toEqual([258]);
    expect(pixelsToInput(new Uint8Array([0, 255, 51]))).toEqual(new Float32Array([0, 1, 51 / 255]));
  });

  it("gives a specific error code for each kind of bad file", () => {
    const good = idx(0x08, [1, 2, 2], [1, 2, 3, 4]);
    expect(codeOf(() => parseIdxImages(good))).toBe("no error");
    expect(codeOf(() => parseIdx(new Uint8Array(gzipSync(good))))).toBe("gzipped");
    expect(codeOf(() => parseIdx(new Uint8Array([0, 0, 8])))).toBe("too_short");
    expect(codeOf(() => parseIdx(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4])))).toBe("bad_magic");
    expect(codeOf(() => parseIdx(idx(0x42, [1], [0])))).toBe("bad_magic");
    expect(codeOf(() => parseIdx(idx(0x0d, [1], [0, 0, 0, 0])))).toBe("unsupported_type");
    expect(codeOf(() => parseIdx(idx(0x08, [], [])))).toBe("wrong_dims");
    expect(codeOf(() => parseIdxImages(idx(0x08, [4], [1, 2, 3, 4])))).toBe("wrong_dims");
    expect(codeOf(() => parseIdxLabels(good, 10))).toBe("wrong_dims");
    expect(codeOf(() => parseIdxImages(good, { rows: 28, cols: 28 }))).toBe("wrong_dims");
    expect(codeOf(() => parseIdxImages(good.subarray(0, good.length - 1)))).toBe("truncated");
    expect(codeOf(() => parseIdxImages(good.subarray(0, 10)))).toBe("truncated");
    expect(codeOf(() => parseIdxImages(Uint8Array.from([...good, 0])))).toBe("trailing_bytes");
    expect(codeOf(() => parseIdx(idx(0x08, [65536, 65536, 2], [])))).toBe("too_large");
    expect(codeOf(() => parseIdxLabels(idx(0x08, [2], [3, 10]), 10))).toBe("label_out_of_range");
  });

  it("messages say what was expected", () => {
    expect(() => parseIdxImages(idx(0x08, [1, 2, 2], [1, 2, 3]))).toThrow(/need 4 data bytes, file has 3/);
    expect(() => parseIdxImages(idx(0x08, [1, 2, 2], [1, 2, 3, 4]), { rows: 28, cols: 28 })).toThrow(
      /2×2, expected 28×28/,
    );
  });

  const testImages = FASHION_TEST_IMAGES;
  it.skipIf(!existsSync(testImages))("reads the real Fashion-MNIST test images", () => {
    const images = parseIdxImages(gunzipSync(readFileSync(testImages)), { rows: 28, cols: 28 });
    expect(images.count).toBe(10_000);
    expect(images.pixels.length).toBe(10_000 * 784);
  });
});
