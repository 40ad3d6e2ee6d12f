import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { calibrateHiddenScales } from "../../../scripts/models/calibrate.ts";
import { buildAllGraphs } from "../../../scripts/models/export.ts";
import type { MoeShape } from "../../../scripts/models/moe.ts";
import { quantizeMoe } from "../../../scripts/models/moe-graphs.ts";
import { createRng } from "../../../scripts/models/rng.ts";
import { train } from "../../../scripts/models/train.ts";

/** Same seed, same data → the same bytes in every exported file; another seed → other bytes. */
describe("reproducible builds", () => {
  const shape: MoeShape = { inputs: 16, experts: 4, hidden: 5, classes: 3, topK: 2 };
  const rng = createRng(99);
  const split = (count: number) => {
    const y = Uint8Array.from({ length: count }, () => rng.int(shape.classes));
    // Learnable: the label lights up its own block of inputs.
    const x = Float32Array.from({ length: count * shape.inputs }, (_, i) => {
      const row = Math.floor(i / shape.inputs);
      const col = i % shape.inputs;
      return Math.floor(col / 5) === y[row] ? 0.5 + 0.5 * rng.next() : 0.3 * rng.next();
    });
    return { count, x, y };
  };
  const data = { train: split(400), test: split(100) };

  function digests(seed: number) {
    const result = train(data, {
      shape,
      seed,
      epochs: 3,
      batchSize: 32,
      learningRate: 0.01,
      finalLrFraction: 0.1,
      auxWeight: 0.05,
      log: () => {},
    });
    const scales = calibrateHiddenScales(result.params, data.train.x, data.train.count, {
      rowsPerExpert: 100,
      quantile: 0.999,
    });
    const files = buildAllGraphs({ params: result.params, quantized: quantizeMoe(result.params, scales) });
    return {
      accuracy: result.epochs.at(-1)!.testAccuracy,
      hashes: files.map((f) => createHash("sha256").update(f.bytes).digest("hex")),
    };
  }

  it("rebuilding with the same seed gives identical files, and the model learns", () => {
    const a = digests(5);
    const b = digests(5);
    expect(b.hashes).toEqual(a.hashes);
    expect(a.accuracy).toBeGreaterThan(0.9);
    const c = digests(6);
    expect(c.hashes[0]).not.toBe(a.hashes[0]);
  });
});
