import { IdxError, parseIdxImages, parseIdxLabels, pixelsToInput } from "../../core/formats/idx.ts";
import {
  ImageInputError,
  imageToModelInput,
  MODEL_IMAGE_SIDE,
  MODEL_INPUT_SIZE,
  type InvertMode,
} from "../../core/formats/image-input.ts";
import type { ExpertsJobError } from "./types.ts";
import { CodedError } from "../../core/base/coded-error.ts";

/**
 * The browser side of the classify job's inputs: the Fashion-MNIST test set from the server's dataset
 * endpoint (gzip IDX, inflated with DecompressionStream), and uploaded files: PNG/JPEG/WebP images (decoded
 * with createImageBitmap, pixels read through an OffscreenCanvas, then image-input.ts) and IDX files (.gz or
 * raw; an IDX3 of 28×28 images plus optionally an IDX1 of labels). Every failure is an ExpertsInputError
 * with a user-facing message naming the file.
 */
export const TEST_SET_URLS = {
  images: "/api/v1/datasets/fashion-mnist/t10k-images",
  labels: "/api/v1/datasets/fashion-mnist/t10k-labels",
} as const;
export const MAX_CLASSIFY_ROWS = 10_000;
export const MAX_IMAGE_FILE_BYTES = 20 * 1024 * 1024;
export const MAX_IDX_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_UPLOAD_FILES = 1_000;
/** Decoded images bigger than this on a side are refused before their pixels are read. */
export const MAX_IMAGE_SIDE = 8_192;

/** What the person gave an experts job (files, the test set, models) cannot be used: the job fails with it. */
export class ExpertsInputError extends CodedError<ExpertsJobError["code"]> {
  override readonly name = "ExpertsInputError";
}

export interface ClassifyInput {
  /** [rows, 784] float32, pixel/255, white-on-black. */
  readonly pixels: Float32Array;
  readonly rows: number;
  readonly labels: Uint8Array | null;
  /** A name per row (file name, "test #12"). */
  readonly names: readonly string[];
  readonly invertedCount: number;
  readonly description: string;
}

export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

type TestSet = { images: Uint8Array; labels: Uint8Array; count: number };

/** The whole test set, downloaded and inflated once per loader (4.4 MB compressed, 7.8 MB inflated). */
async function downloadTestSet(fetchFn: typeof fetch): Promise<TestSet> {
  const [images, labels] = await Promise.all([
    fetchDataset(fetchFn, TEST_SET_URLS.images),
    fetchDataset(fetchFn, TEST_SET_URLS.labels),
  ]);
  try {
    const parsed = parseIdxImages(await gunzip(images), { rows: MODEL_IMAGE_SIDE, cols: MODEL_IMAGE_SIDE });
    const parsedLabels = parseIdxLabels(await gunzip(labels), 10);
    if (parsedLabels.length !== parsed.count) {
      throw new ExpertsInputError(
        "bad_file",
        `the test set has ${parsed.count} images but ${parsedLabels.length} labels`,
      );
    }
    return { images: parsed.pixels, labels: parsedLabels, count: parsed.count };
  } catch (error) {
    if (error instanceof IdxError) {
      throw new ExpertsInputError("bad_file", `the server's test set is damaged: ${error.message}`);
    }
    throw error;
  }
}

async function fetchDataset(fetchFn: typeof fetch, url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (error) {
    throw new ExpertsInputError("fetch_failed", `GET ${url} failed: ${String(error)}`);
  }
  if (response.status === 404) {
    let message = `the server has no Fashion-MNIST test set (GET ${url}: 404)`;
    try {
      const body = (await response.json()) as { message?: unknown; install?: unknown };
      if (typeof body.message === "string")
        message = `the server has no Fashion-MNIST test set: ${body.message}`;
    } catch {
      // not JSON: keep the generic message
    }
    throw new ExpertsInputError("dataset_missing", message);
  }
  if (!response.ok)
    throw new ExpertsInputError("fetch_failed", `GET ${url} answered HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Returns a function giving the first `count` test images with their labels; the set is downloaded on first
 * use and kept (a failed download is retried next time: the package may have been installed meanwhile).
 */
export function testSetLoader(fetchFn: typeof fetch): (count: number) => Promise<ClassifyInput> {
  let cached: Promise<TestSet> | null = null;
  return async (count) => {
    if (!Number.isInteger(count) || count < 1 || count > MAX_CLASSIFY_ROWS) {
      throw new ExpertsInputError(
        "bad_shape",
        `choose between 1 and ${MAX_CLASSIFY_ROWS} test images, not ${count}`,
      );
    }
    const loading = (cached ??= downloadTestSet(fetchFn));
    loading.catch(() => {
      if (cached === loading) cached = null;
    });
    const set = await loading;
    const rows = Math.min(count, set.count);
    return {
      pixels: pixelsToInput(set.images.subarray(0, rows * MODEL_INPUT_SIZE)),
      rows,
      labels: set.labels.slice(0, rows),
      names: Array.from({ length: rows }, (_, i) => `test #${i}`),
      invertedCount: 0,
      description: `${rows} Fashion-MNIST test image${rows === 1 ? "" : "s"}`,
    };
  };
}

/**
 * Uploaded files: images (each one row) and IDX image files (many rows each), in the order given; one IDX1
 * labels file may label the IDX images when it is the only labels file and its count matches.
 */
export async function uploadedInput(files: readonly File[], invert: InvertMode): Promise<ClassifyInput> {
  if (files.length === 0)
    throw new ExpertsInputError("bad_file", "choose at least one PNG/JPEG image or IDX file");
  if (files.length > MAX_UPLOAD_FILES) {
    throw new ExpertsInputError(
      "too_large",
      `${files.length} files chosen; at most ${MAX_UPLOAD_FILES} at once`,
    );
  }
  const chunks: Float32Array[] = [];
  const names: string[] = [];
  let labels: Uint8Array | null = null;
  let idxRows = 0;
  let imageRows = 0;
  let invertedCount = 0;
  for (const file of files) {
    const kind = await sniff(file);
    if (kind === "image") {
      const image = await decodeImageFile(file);
      let input;
      try {
        input = imageToModelInput(image, { invert });
      } catch (error) {
        if (error instanceof ImageInputError)
          throw new ExpertsInputError("bad_file", `${file.name}: ${error.message}`);
        throw error;
      }
      if (input.inverted) invertedCount++;
      chunks.push(input.pixels);
      names.push(file.name);
      imageRows++;
      continue;
    }
    const bytes = await readIdx(file);
    const dims = bytes[3];
    try {
      if (dims === 1) {
        if (labels !== null)
          throw new ExpertsInputError("bad_file", `${file.name}: only one labels file can be used`);
        labels = parseIdxLabels(bytes, 10).slice();
        continue;
      }
      const images = parseIdxImages(bytes, { rows: MODEL_IMAGE_SIDE, cols: MODEL_IMAGE_SIDE });
      chunks.push(pixelsToInput(images.pixels));
      for (let i = 0; i < images.count; i++) names.push(`${file.name} #${i}`);
      idxRows += images.count;
    } catch (error) {
      if (error instanceof IdxError) {
        const code =
          error.code === "wrong_dims" ? "bad_shape" : error.code === "too_large" ? "too_large" : "bad_file";
        throw new ExpertsInputError(code, `${file.name}: ${error.message}`);
      }
      throw error;
    }
    if (names.length > MAX_CLASSIFY_ROWS) {
      throw new ExpertsInputError(
        "too_large",
        `the files hold more than ${MAX_CLASSIFY_ROWS} images; upload fewer`,
      );
    }
  }
  const rows = names.length;
  if (rows === 0)
    throw new ExpertsInputError("bad_file", "no images: a labels file alone has nothing to classify");
  if (rows > MAX_CLASSIFY_ROWS)
    throw new ExpertsInputError("too_large", `${rows} images; at most ${MAX_CLASSIFY_ROWS} per job`);
  if (labels !== null && (imageRows > 0 || labels.length !== idxRows)) {
    throw new ExpertsInputError(
      "bad_shape",
      imageRows > 0
        ? "a labels file can only label IDX images, not a mix with PNG/JPEG files"
        : `the labels file has ${labels.length} labels for ${idxRows} IDX images`,
    );
  }
  const pixels = new Float32Array(rows * MODEL_INPUT_SIZE);
  let at = 0;
  for (const chunk of chunks) {
    pixels.set(chunk, at);
    at += chunk.length;
  }
  const parts = [
    imageRows > 0 ? `${imageRows} uploaded image${imageRows === 1 ? "" : "s"}` : "",
    idxRows > 0 ? `${idxRows} IDX images` : "",
  ];
  return { pixels, rows, labels, names, invertedCount, description: parts.filter(Boolean).join(" + ") };
}

type FileKind = "image" | "idx";

async function sniff(file: File): Promise<FileKind> {
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const name = file.name.toLowerCase();
  const png = head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
  const jpeg = head[0] === 0xff && head[1] === 0xd8;
  const webp = head[0] === 0x52 && head[1] === 0x49 && head[8] === 0x57 && head[9] === 0x45;
  const gif = head[0] === 0x47 && head[1] === 0x49 && head[2] === 0x46;
  const bmp = head[0] === 0x42 && head[1] === 0x4d;
  if (png || jpeg || webp || gif || bmp) return "image";
  if (isGzip(head) || (head[0] === 0 && head[1] === 0 && head[2] === 0x08)) return "idx";
  throw new ExpertsInputError(
    "bad_file",
    `${file.name}: not a PNG/JPEG image nor an IDX file${name.endsWith(".onnx") ? " (ONNX models go to the generic job below)" : ""}`,
  );
}

async function readIdx(file: File): Promise<Uint8Array> {
  if (file.size > MAX_IDX_FILE_BYTES) {
    throw new ExpertsInputError(
      "too_large",
      `${file.name} is ${file.size} bytes; IDX files are limited to ${MAX_IDX_FILE_BYTES / 1024 / 1024} MiB`,
    );
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (!isGzip(bytes)) return bytes;
  try {
    const inflated = await gunzip(bytes);
    if (inflated.length > 4 * MAX_IDX_FILE_BYTES)
      throw new ExpertsInputError(
        "too_large",
        `${file.name} inflates to more than ${MAX_IDX_FILE_BYTES * 4} bytes`,
      );
    return inflated;
  } catch (error) {
    if (error instanceof ExpertsInputError) throw error;
    throw new ExpertsInputError("bad_file", `${file.name}: not a valid gzip file (${String(error)})`);
  }
}

/** Decodes an image file to RGBA pixels (browser only). */
export async function decodeImageFile(
  file: Blob & { readonly name?: string },
): Promise<{ width: number; height: number; channels: 4; data: Uint8ClampedArray }> {
  const name = file.name ?? "image";
  if (file.size > MAX_IMAGE_FILE_BYTES) {
    throw new ExpertsInputError(
      "too_large",
      `${name} is ${file.size} bytes; images are limited to ${MAX_IMAGE_FILE_BYTES / 1024 / 1024} MiB`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    // Pixels as stored: no colour-profile conversion, no premultiplied alpha (the model wants the values).
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch (error) {
    throw new ExpertsInputError(
      "bad_file",
      `${name}: the browser could not decode it as an image (${String(error)})`,
    );
  }
  try {
    const { width, height } = bitmap;
    if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
      throw new ExpertsInputError(
        "too_large",
        `${name} is ${width}×${height}; images up to ${MAX_IMAGE_SIDE} pixels a side are accepted`,
      );
    }
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (!context) throw new ExpertsInputError("failed", "this browser has no 2D canvas to read image pixels");
    context.drawImage(bitmap, 0, 0);
    return { width, height, channels: 4, data: context.getImageData(0, 0, width, height).data };
  } finally {
    bitmap.close();
  }
}

/** The 28×28 bytes (0..255) of row `row`, for thumbnails. */
export function previewPixels(pixels: Float32Array, row: number): Uint8Array {
  const out = new Uint8Array(MODEL_INPUT_SIZE);
  const base = row * MODEL_INPUT_SIZE;
  for (let i = 0; i < MODEL_INPUT_SIZE; i++) out[i] = Math.round(pixels[base + i]! * 255);
  return out;
}
