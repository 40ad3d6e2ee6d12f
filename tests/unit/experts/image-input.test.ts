import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pixelsToInput } from "../../../src/core/formats/idx.ts";
import {
  ImageInputError,
  imageToModelInput,
  resizeArea,
  toGray,
  type DecodedImage,
} from "../../../src/core/formats/image-input.ts";

/** A Fashion-MNIST-like 28×28 image: a bright blob on black, deterministic. */
function garment(): Uint8Array {
  const px = new Uint8Array(784);
  for (let y = 4; y < 24; y++) for (let x = 8; x < 20; x++) px[y * 28 + x] = ((x * 7 + y * 13) % 200) + 55;
  return px;
}

function rgba(gray: Uint8Array, alpha = 255): Uint8Array {
  const out = new Uint8Array(gray.length * 4);
  gray.forEach((v, i) => out.set([v, v, v, alpha], i * 4));
  return out;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return "no error";
  } catch (error) {
    if (error instanceof ImageInputError) return error.code;
    throw error;
  }
}

describe("imageToModelInput", () => {
  it("turns a 28×28 Fashion-MNIST image (gray or RGBA) into exactly pixel/255, not inverted", () => {
    const px = garment();
    const expected = pixelsToInput(px);
    const gray = imageToModelInput({ width: 28, height: 28, channels: 1, data: px });
    expect(gray.inverted).toBe(false);
    expect([...gray.pixels]).toEqual([...expected]);
    const colour = imageToModelInput({ width: 28, height: 28, channels: 4, data: rgba(px) });
    expect([...colour.pixels]).toEqual([...expected]);
    expect(expected[4 * 28 + 8]).toBeCloseTo(px[4 * 28 + 8]! / 255, 7);
  });

  it("averages areas when shrinking: a 56×56 image of 2×2 blocks gives the block values", () => {
    const px = garment();
    const big = new Uint8Array(56 * 56);
    for (let y = 0; y < 56; y++) for (let x = 0; x < 56; x++) big[y * 56 + x] = px[(y >> 1) * 28 + (x >> 1)]!;
    const out = imageToModelInput({ width: 56, height: 56, channels: 1, data: big });
    out.pixels.forEach((v, i) => expect(v).toBeCloseTo(px[i]! / 255, 6));
  });

  it("averages, not samples: a fine checkerboard shrinks to flat grey (no aliasing)", () => {
    const n = 28 * 6;
    const board = new Uint8Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) board[y * n + x] = (x + y) % 2 === 0 ? 0 : 200;
    const out = imageToModelInput({ width: n, height: n, channels: 1, data: board }, { invert: "never" });
    for (const v of out.pixels) expect(v).toBeCloseTo(100 / 255, 6);
  });

  it("keeps the mean intensity at any scale (stretch)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer(),
        (w, h, seed) => {
          const data = Uint8Array.from(
            { length: w * h },
            (_, i) => Math.abs((i * 2654435761 + seed) | 0) % 256,
          );
          const out = imageToModelInput(
            { width: w, height: h, channels: 1, data },
            { invert: "never", fit: "stretch" },
          );
          const meanIn = data.reduce((a, b) => a + b, 0) / data.length / 255;
          const meanOut = out.pixels.reduce((a, b) => a + b, 0) / 784;
          expect(meanOut).toBeCloseTo(meanIn, 4);
          for (const v of out.pixels) expect(v >= 0 && v <= 1).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("keeps the aspect ratio by default: a wide image is centered with black bands above and below", () => {
    const wide = new Uint8Array(56 * 28).fill(180);
    const out = imageToModelInput({ width: 56, height: 28, channels: 1, data: wide }, { invert: "never" });
    // 56×28 → 28×14, rows 7..20 filled.
    for (let y = 0; y < 28; y++) {
      const v = out.pixels[y * 28 + 14]!;
      if (y >= 7 && y < 21) expect(v, `row ${y}`).toBeCloseTo(180 / 255, 6);
      else expect(v, `row ${y}`).toBe(0);
    }
    const stretched = imageToModelInput(
      { width: 56, height: 28, channels: 1, data: wide },
      { invert: "never", fit: "stretch" },
    );
    expect(stretched.pixels.every((v) => Math.abs(v - 180 / 255) < 1e-6)).toBe(true);
  });

  it("inverts a dark-on-light photo automatically (and only when asked otherwise)", () => {
    // A dark shirt on a white page: what a phone photo of a garment looks like.
    const photo = new Uint8Array(28 * 28).fill(250);
    for (let y = 6; y < 22; y++) for (let x = 6; x < 22; x++) photo[y * 28 + x] = 30;
    const auto = imageToModelInput({ width: 28, height: 28, channels: 1, data: photo });
    expect(auto.inverted).toBe(true);
    expect(auto.pixels[0]).toBeCloseTo(5 / 255, 6);
    expect(auto.pixels[14 * 28 + 14]).toBeCloseTo(225 / 255, 6);
    const never = imageToModelInput({ width: 28, height: 28, channels: 1, data: photo }, { invert: "never" });
    expect(never.inverted).toBe(false);
    expect(never.pixels[0]).toBeCloseTo(250 / 255, 6);
    const always = imageToModelInput(
      { width: 28, height: 28, channels: 1, data: garment() },
      { invert: "always" },
    );
    expect(always.inverted).toBe(true);
    expect(always.pixels[0]).toBe(1);
  });

  it("uses Rec. 601 luma for colour, and composites transparency over white", () => {
    const red = toGray({ width: 1, height: 1, channels: 3, data: new Uint8Array([255, 0, 0]) });
    expect(red[0]).toBeCloseTo(0.299 * 255, 9);
    const clear = toGray({ width: 1, height: 1, channels: 4, data: new Uint8Array([0, 0, 0, 0]) });
    expect(clear[0]).toBe(255);
    const half = toGray({ width: 1, height: 1, channels: 2, data: new Uint8Array([0, 51]) });
    expect(half[0]).toBeCloseTo(204, 9);
  });

  it("refuses impossible sizes and mismatched buffers with specific codes", () => {
    const bad: DecodedImage[] = [
      { width: 0, height: 28, channels: 1, data: new Uint8Array(0) },
      { width: 2.5, height: 2, channels: 1, data: new Uint8Array(5) },
      { width: 10_000, height: 10_000, channels: 1, data: new Uint8Array(1) },
    ];
    for (const image of bad) expect(codeOf(() => imageToModelInput(image))).toBe("bad_size");
    expect(
      codeOf(() => imageToModelInput({ width: 28, height: 28, channels: 4, data: new Uint8Array(784) })),
    ).toBe("bad_data");
  });
});

describe("resizeArea", () => {
  it("is the identity at the same size, and exact for integer shrink factors", () => {
    const src = Float64Array.from({ length: 12 }, (_, i) => i);
    expect([...resizeArea(src, 4, 3, 4, 3)]).toEqual([...src]);
    // 4×2 → 2×1: each output is the mean of a 2×2 block.
    expect([...resizeArea(Float64Array.from([0, 2, 4, 6, 8, 10, 12, 14]), 4, 2, 2, 1)]).toEqual([5, 9]);
  });
});
