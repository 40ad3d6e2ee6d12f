import { Adam } from "./adam.ts";
import type { Split } from "./dataset.ts";
import {
  accuracy,
  forward,
  initParams,
  paramTensors,
  zeroParams,
  type MoeParams,
  type MoeShape,
} from "./moe.ts";
import { MoeGradient } from "./moe-grad.ts";
import { createRng, shuffleInPlace } from "./rng.ts";

export interface TrainOptions {
  readonly shape: MoeShape;
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak learning rate; cosine-decayed to `finalLrFraction` of it over the run. */
  readonly learningRate: number;
  readonly finalLrFraction: number;
  /** α of the load-balancing loss. */
  readonly auxWeight: number;
  /** Use only the first `trainLimit` training images (a quick preliminary build). */
  readonly trainLimit?: number;
  readonly log: (line: string) => void;
}

export interface EpochReport {
  readonly epoch: number;
  readonly ce: number;
  readonly aux: number;
  readonly trainAccuracy: number;
  readonly testAccuracy: number;
  /** Fraction of routing slots per expert over the epoch. */
  readonly routing: readonly number[];
  readonly ms: number;
}

export interface TrainResult {
  readonly params: MoeParams;
  readonly epochs: readonly EpochReport[];
  readonly ms: number;
}

export function train(data: { train: Split; test: Split }, options: TrainOptions): TrainResult {
  const { shape, batchSize, epochs } = options;
  const rng = createRng(options.seed);
  const params = initParams(shape, rng);
  const grads = zeroParams(shape);
  const adam = new Adam(paramTensors(params));
  const gradTensors = paramTensors(grads);
  const gradient = new MoeGradient(shape, batchSize);
  const count = Math.min(data.train.count, options.trainLimit ?? Infinity);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const batchesPerEpoch = Math.ceil(count / batchSize);
  const totalSteps = epochs * batchesPerEpoch;
  const started = performance.now();
  const reports: EpochReport[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    shuffleInPlace(order, rng);
    let ce = 0;
    let aux = 0;
    let correct = 0;
    const slots = new Array<number>(shape.experts).fill(0);
    for (let from = 0; from < count; from += batchSize) {
      const batch = order.subarray(from, Math.min(count, from + batchSize));
      const result = gradient.compute(params, grads, data.train.x, data.train.y, batch, options.auxWeight);
      const progress = step / Math.max(1, totalSteps - 1);
      const lr =
        options.learningRate *
        (options.finalLrFraction + (1 - options.finalLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
      adam.update(gradTensors, lr);
      step++;
      ce += result.ce * batch.length;
      aux += result.aux * batch.length;
      correct += result.correct;
      result.counts.forEach((c, e) => (slots[e]! += c));
    }
    const test = forward(params, data.test.x, data.test.count);
    const totalSlots = slots.reduce((a, b) => a + b, 0);
    const report: EpochReport = {
      epoch,
      ce: ce / count,
      aux: aux / count,
      trainAccuracy: correct / count,
      testAccuracy: accuracy(test.logits, data.test.y, shape.classes),
      routing: slots.map((s) => s / totalSlots),
      ms: performance.now() - epochStart,
    };
    reports.push(report);
    options.log(
      `epoch ${epoch}/${epochs}  loss ${report.ce.toFixed(4)}  aux ${report.aux.toFixed(4)}  ` +
        `train acc ${report.trainAccuracy.toFixed(4)}  test acc (TS fp32) ${report.testAccuracy.toFixed(4)}  ` +
        `routing [${report.routing.map((r) => (100 * r).toFixed(1)).join(" ")}]%  ${(report.ms / 1000).toFixed(1)} s`,
    );
  }
  return { params, epochs: reports, ms: performance.now() - started };
}
