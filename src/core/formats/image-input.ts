import { CodedError } from "../base/coded-error.ts";
/**
 * Decoded pixels of any size → what the Fashion-MNIST models take: 784 float32 values, a 28×28 grayscale
 * image, row-major, each pixel/255, with the garment BRIGHT on a BLACK background (that is how the data set
 * is stored). Pure: the browser decodes PNG/JPEG (createImageBitmap + OffscreenCanvas) and passes pixels in.
 *
 * Steps, each chosen to resemble how Fashion-MNIST was made (product photo → trimmed, longest side resized
 * to 28, centered, grayscale, negated):
 *  1. grayscale by Rec. 601 luma (an R=G=B pixel keeps its value exactly), alpha composited over white
 *     (a transparent background is what a page shows: white);
 *  2. inversion: Fashion-MNIST is white-on-black, photos are usually dark-on-light. "auto" inverts when the
 *     image's border is mostly light (mean border intensity > 0.5);
 *  3. resize with area averaging (every source pixel contributes by the area it covers: no aliasing when
 *     shrinking a photo 100×), keeping the aspect ratio ("contain": longest side 28, centered, padded with
 *     black) or not ("stretch");
 *  4. /255 (the value range is 0..1 throughout).
 * A 28×28 grayscale image (a Fashion-MNIST PNG) comes out exactly as pixel/255.
 */
export const MODEL_IMAGE_SIDE = 28;
export const MODEL_INPUT_SIZE = MODEL_IMAGE_SIDE * MODEL_IMAGE_SIDE;

/** Pixels as decoded: `channels` bytes per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), row-major. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array | Uint8ClampedArray;
}

export type InvertMode = "auto" | "always" | "never";
export type FitMode = "contain" | "stretch";

export interface ImageInputOptions {
  readonly invert?: InvertMode;
  readonly fit?: FitMode;
}

export interface ImageInput {
  /** 784 values in 0..1, white-on-black like Fashion-MNIST. */
  readonly pixels: Float32Array;
  readonly inverted: boolean;
  readonly sourceWidth: number;
  readonly sourceHeight: number;
}

export type ImageInputErrorCode = "bad_size" | "bad_data";

export class ImageInputError extends CodedError<ImageInputErrorCode> {
  override readonly name = "ImageInputError";
}

/** Decoded images larger than this are refused (a 64-megapixel photo is 256 MiB of RGBA). */
export const MAX_IMAGE_PIXELS = 40_000_000;

export function imageToModelInput(image: DecodedImage, options: ImageInputOptions = {}): ImageInput {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageInputError("bad_size", `image is ${width}×${height}: both sides must be at least 1 pixel`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageInputError(
      "bad_size",
      `image is ${width}×${height}: at most ${MAX_IMAGE_PIXELS} pixels are accepted`,
    );
  }
  if (data.length !== width * height * channels) {
    throw new ImageInputError(
      "bad_data",
      `a ${width}×${height} image with ${channels} channels has ${width * height * channels} bytes, got ${data.length}`,
    );
  }
  const gray = toGray(image);
  const mode = options.invert ?? "auto";
  const inverted = mode === "always" || (mode === "auto" && hasLightBorder(gray, width, height));
  if (inverted) for (let i = 0; i < gray.length; i++) gray[i] = 255 - gray[i]!;

  const side = MODEL_IMAGE_SIDE;
  let outW = side;
  let outH = side;
  if ((options.fit ?? "contain") === "contain" && width !== height) {
    // Longest side 28; the other at least 1 pixel.
    if (width > height) outH = Math.max(1, Math.round((side * height) / width));
    else outW = Math.max(1, Math.round((side * width) / height));
  }
  const resized = resizeArea(gray, width, height, outW, outH);
  const pixels = new Float32Array(MODEL_INPUT_SIZE);
  const left = Math.floor((side - outW) / 2);
  const top = Math.floor((side - outH) / 2);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) pixels[(top + y) * side + left + x] = resized[y * outW + x]! / 255;
  }
  return { pixels, inverted, sourceWidth: width, sourceHeight: height };
}

/** Intensities 0..255 (float64, so averaging loses nothing), alpha composited over white. */
export function toGray(image: DecodedImage): Float64Array {
  const { width, height, channels, data } = image;
  const out = new Float64Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    let v: number;
    let alpha = 255;
    if (channels <= 2) {
      v = data[p]!;
      if (channels === 2) alpha = data[p + 1]!;
    } else {
      const r = data[p]!;
      const g = data[p + 1]!;
      const b = data[p + 2]!;
      v = r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
      if (channels === 4) alpha = data[p + 3]!;
    }
    out[i] = alpha === 255 ? v : (v * alpha + 255 * (255 - alpha)) / 255;
  }
  return out;
}

/** Whether the outermost ring of pixels is mostly light (a dark-on-light photo, the opposite of the data). */
export function hasLightBorder(gray: Float64Array, width: number, height: number): boolean {
  let sum = 0;
  let count = 0;
  for (let x = 0; x < width; x++) {
    sum += gray[x]! + (height > 1 ? gray[(height - 1) * width + x]! : 0);
    count += height > 1 ? 2 : 1;
  }
  for (let y = 1; y < height - 1; y++) {
    sum += gray[y * width]! + (width > 1 ? gray[y * width + width - 1]! : 0);
    count += width > 1 ? 2 : 1;
  }
  return sum / count > 127.5;
}

/**
 * Area-averaging resize (a box filter whose support is exactly one destination pixel's footprint in the
 * source), separable: rows first, then columns. Enlarging degenerates to nearest-neighbour blocks with
 * blended edges, which is fine for the rare tiny upload.
 */
export function resizeArea(
  src: Float64Array,
  width: number,
  height: number,
  outW: number,
  outH: number,
): Float64Array {
  if (outW === width && outH === height) return src.slice();
  const xs = areaWeights(width, outW);
  const ys = areaWeights(height, outH);
  const tmp = new Float64Array(outW * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < outW; x++) {
      let acc = 0;
      for (const [i, w] of xs[x]!) acc += src[row + i]! * w;
      tmp[y * outW + x] = acc;
    }
  }
  const out = new Float64Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    for (const [j, w] of ys[y]!) {
      const row = j * outW;
      for (let x = 0; x < outW; x++) out[y * outW + x] = out[y * outW + x]! + tmp[row + x]! * w;
    }
  }
  return out;
}

/** For each destination index: the source indices it covers and their weights (summing to 1). */
function areaWeights(srcSize: number, dstSize: number): [number, number][][] {
  const scale = srcSize / dstSize;
  const result: [number, number][][] = [];
  for (let d = 0; d < dstSize; d++) {
    const start = d * scale;
    const end = start + scale;
    const taps: [number, number][] = [];
    for (let s = Math.floor(start); s < Math.min(srcSize, Math.ceil(end)); s++) {
      const overlap = Math.min(end, s + 1) - Math.max(start, s);
      if (overlap > 1e-12) taps.push([s, overlap / scale]);
    }
    result.push(taps);
  }
  return result;
}
