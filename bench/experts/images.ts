import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parseIdxImages, pixelsToInput } from "../../src/core/formats/idx.ts";
import { FASHION_TEST_IMAGES } from "../../src/node/fashion-mnist.ts";

/** Where Debian's dataset-fashion-mnist puts the test set (the server serves the same file to the tabs). */
export const TEST_IMAGES_FILE = FASHION_TEST_IMAGES;

/** The first `count` test images as the models' input (pixel/255, [count, 784]). */
export function loadTestImages(count: number, file = TEST_IMAGES_FILE): Float32Array {
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: apt-get install dataset-fashion-mnist (or set OPEN_SWARM_DATASETS_DIR)`,
    );
  }
  const images = parseIdxImages(new Uint8Array(gunzipSync(readFileSync(file))), { rows: 28, cols: 28 });
  if (images.count < count) throw new Error(`${file} holds ${images.count} images, ${count} were asked for`);
  return pixelsToInput(images.pixels.subarray(0, count * 784));
}
