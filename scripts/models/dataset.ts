import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { CodedError } from "../../src/core/base/coded-error.ts";
import { parseIdxImages, parseIdxLabels, pixelsToInput } from "../../src/core/formats/idx.ts";
import { FASHION_MNIST_DIR } from "../../src/node/fashion-mnist.ts";

/** Where Debian's `dataset-fashion-mnist` package installs the original IDX files. */
export { FASHION_MNIST_DIR };
export const IMAGE_SIDE = 28;
/** 28 × 28, as a literal type (the manifest's inputSize). */
export const INPUT_SIZE = 784;
export const CLASS_COUNT = 10;

const FILES = {
  trainImages: "train-images-idx3-ubyte.gz",
  trainLabels: "train-labels-idx1-ubyte.gz",
  testImages: "t10k-images-idx3-ubyte.gz",
  testLabels: "t10k-labels-idx1-ubyte.gz",
} as const;

export interface Split {
  readonly count: number;
  /** [count, 784] pixel/255. */
  readonly x: Float32Array;
  readonly y: Uint8Array;
}

export interface Dataset {
  readonly train: Split;
  readonly test: Split;
}

export class DatasetMissingError extends CodedError<"dataset_missing"> {
  override readonly name = "DatasetMissingError";

  constructor(readonly missing: readonly string[]) {
    super(
      "dataset_missing",
      `Fashion-MNIST not found (${missing.join(", ")}). Install it with: sudo apt-get install dataset-fashion-mnist`,
    );
  }
}

export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): Dataset {
  const missing = Object.values(FILES).filter((f) => !existsSync(`${dir}/${f}`));
  if (missing.length > 0) throw new DatasetMissingError(missing.map((f) => `${dir}/${f}`));
  return {
    train: loadSplit(dir, FILES.trainImages, FILES.trainLabels),
    test: loadSplit(dir, FILES.testImages, FILES.testLabels),
  };
}

function loadSplit(dir: string, imagesFile: string, labelsFile: string): Split {
  const images = parseIdxImages(gunzipSync(readFileSync(`${dir}/${imagesFile}`)), {
    rows: IMAGE_SIDE,
    cols: IMAGE_SIDE,
  });
  const labels = parseIdxLabels(gunzipSync(readFileSync(`${dir}/${labelsFile}`)), CLASS_COUNT);
  if (labels.length !== images.count) {
    throw new Error(`${imagesFile} has ${images.count} images but ${labelsFile} has ${labels.length} labels`);
  }
  return { count: images.count, x: pixelsToInput(images.pixels), y: labels };
}
