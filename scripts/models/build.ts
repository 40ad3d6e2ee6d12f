/**
 * `npm run models:build`: trains the Fashion-MNIST mixture of experts (TypeScript, seeded, deterministic),
 * exports gate / experts / whole-MoE ONNX graphs in fp32, int8 (static) and qdq variants, measures them with
 * onnxruntime-node on the 10,000 test images, and writes public/models/ with manifest.json.
 *
 * Options: --epochs N  --hidden H  --experts E  --seed S  --batch B  --lr X  --aux α  --quantile q
 *          --train-limit N (first N training images only)  --out DIR  --data DIR
 *          --preliminary (1 epoch on 10k images)
 * Exit codes: 0 written (targets reached or not: the summary says which), 2 dataset missing, 1 error.
 */
import { Command } from "commander";
import { format } from "prettier";
import {
  FASHION_MNIST_CLASSES,
  MANIFEST_VERSION,
  MODEL_VARIANTS,
  manifestSchema,
  type ModelManifest,
  type ModelVariant,
} from "../../src/core/protocol/manifest.ts";
import { calibrateHiddenScales } from "./calibrate.ts";
import {
  CLASS_COUNT,
  DatasetMissingError,
  FASHION_MNIST_DIR,
  INPUT_SIZE,
  loadFashionMnist,
} from "./dataset.ts";
import { compareSwarmToWhole, accuracyOf, ORT_VERSION, OrtModel, type Equivalence } from "./evaluate.ts";
import { buildAllGraphs, sizeRatio, writeModels } from "./export.ts";
import { parameterCount, type MoeShape } from "./moe.ts";
import { quantizeMoe } from "./moe-graphs.ts";
import { OPSET } from "./onnx-graph.ts";
import { train } from "./train.ts";

const TARGET_INT8_ACCURACY = 0.88;
const TARGET_INT8_GAP = 0.005;
const TARGET_SIZE_RATIO = 3.5;

const program = new Command()
  .name("models:build")
  .option("--epochs <n>", "training epochs", "14")
  .option("--hidden <n>", "hidden units per expert", "80")
  .option("--experts <n>", "number of experts", "8")
  .option("--top-k <n>", "experts per input", "2")
  .option("--seed <n>", "PRNG seed", "20250805")
  .option("--batch <n>", "minibatch size", "128")
  .option("--lr <x>", "peak Adam learning rate (cosine decay)", "0.002")
  .option("--aux <x>", "load-balancing loss weight α", "0.05")
  .option("--quantile <q>", "calibration quantile of hidden activations", "0.9999")
  .option("--train-limit <n>", "use only the first N training images")
  .option("--out <dir>", "output folder", "public/models")
  .option("--data <dir>", "folder with the Fashion-MNIST IDX .gz files", FASHION_MNIST_DIR)
  .option("--preliminary", "quick build: 1 epoch on 10,000 training images");

async function main(): Promise<number> {
  const opts = program.parse().opts<Record<string, string | boolean | undefined>>();
  const num = (key: string): number => {
    const v = Number(opts[key]);
    if (!Number.isFinite(v)) throw new Error(`--${key} must be a number, got ${String(opts[key])}`);
    return v;
  };
  const preliminary = opts["preliminary"] === true;
  const epochs = preliminary ? 1 : num("epochs");
  const trainLimit = preliminary ? 10_000 : opts["trainLimit"] === undefined ? undefined : num("trainLimit");
  const shape: MoeShape = {
    inputs: INPUT_SIZE,
    experts: num("experts"),
    hidden: num("hidden"),
    classes: CLASS_COUNT,
    topK: num("topK"),
  };
  const seed = num("seed");
  const outDir = String(opts["out"]);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const log = (line: string) => console.log(line);

  let data;
  try {
    data = loadFashionMnist(String(opts["data"]));
  } catch (error) {
    if (error instanceof DatasetMissingError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  log(
    `Fashion-MNIST: ${data.train.count} train, ${data.test.count} test images. Model: gate ${shape.inputs}→${shape.experts}, ` +
      `top-${shape.topK}, experts ${shape.inputs}→${shape.hidden}→${shape.classes} (${parameterCount(shape)} parameters)` +
      (preliminary ? "  [PRELIMINARY build]" : ""),
  );

  const trained = train(data, {
    shape,
    seed,
    epochs,
    batchSize: num("batch"),
    learningRate: num("lr"),
    finalLrFraction: 0.02,
    auxWeight: num("aux"),
    ...(trainLimit === undefined ? {} : { trainLimit }),
    log,
  });
  const last = trained.epochs[trained.epochs.length - 1]!;

  const quantileValue = num("quantile");
  const hiddenScales = calibrateHiddenScales(
    trained.params,
    data.train.x,
    Math.min(data.train.count, 20_000),
    {
      rowsPerExpert: 4000,
      quantile: quantileValue,
    },
  );
  const model = { params: trained.params, quantized: quantizeMoe(trained.params, hiddenScales) };
  const files = buildAllGraphs(model);
  log(`exported ${files.length} graphs (opset ${OPSET}); measuring with onnxruntime-node ${ORT_VERSION}`);

  const accuracy: Record<ModelVariant, number> = { fp32: 0, int8: 0, qdq: 0 };
  let qdqFloatActivations = 0;
  const equivalence: Partial<Record<ModelVariant, Equivalence>> = {};
  for (const variant of MODEL_VARIANTS) {
    const pick = (name: string) =>
      files.find((f) => f.entry.variant === variant && f.entry.name === name)!.bytes;
    const moe = await OrtModel.load(pick("moe"), INPUT_SIZE);
    const logits = (await moe.run(data.test.x, data.test.count))["logits"]!;
    await moe.release();
    accuracy[variant] = accuracyOf(logits, data.test.y, CLASS_COUNT);
    if (variant === "qdq") {
      // What a provider without onnxruntime's CPU rewrite computes (float activations × dequantized weights,
      // as on webgpu): see OrtModel.load.
      const plain = await OrtModel.load(pick("moe"), INPUT_SIZE, "basic");
      qdqFloatActivations = accuracyOf(
        (await plain.run(data.test.x, data.test.count))["logits"]!,
        data.test.y,
        CLASS_COUNT,
      );
      await plain.release();
    }
    const eq = await compareSwarmToWhole({
      gate: pick("gate"),
      experts: Array.from({ length: shape.experts }, (_, e) => pick(`expert-${e}`)),
      moeLogits: logits,
      x: data.test.x,
      rows: data.test.count,
      inputCols: INPUT_SIZE,
      classes: CLASS_COUNT,
      expertChunkRows: 97,
    });
    equivalence[variant] = eq;
    log(
      `${variant.padEnd(4)}  moe accuracy ${accuracy[variant].toFixed(4)}  gate+experts vs moe: ` +
        `${eq.argmaxMismatches} argmax mismatches, ${eq.rowsNotIdentical} rows not bit-identical, ` +
        `max |Δlogit| ${eq.maxAbsLogitDiff.toExponential(2)}  routing [${eq.chosenCount.join(" ")}]`,
    );
  }

  const int8Size = sizeRatio(files, "int8");
  const qdqSize = sizeRatio(files, "qdq");
  const buildMs = performance.now() - started;
  const cpuMs = () => {
    const u = process.cpuUsage(cpuStart);
    return (u.user + u.system) / 1000;
  };
  const training: ModelManifest["training"] = {
    preliminary,
    seed,
    epochs,
    trainImages: trainLimit === undefined ? data.train.count : Math.min(trainLimit, data.train.count),
    batchSize: num("batch"),
    optimizer: "adam",
    learningRate: num("lr"),
    lrSchedule: "cosine to 2%",
    loadBalancingWeight: num("aux"),
    parameters: parameterCount(shape),
    tsTestAccuracy: last.testAccuracy,
    finalLoss: last.ce,
    trainMs: Math.round(trained.ms),
    buildMs: Math.round(buildMs),
    buildCpuMs: Math.round(cpuMs()),
    qdqAccuracyFloatActivations: qdqFloatActivations,
    calibrationQuantile: quantileValue,
    int8WeightQuantization: "symmetric per output column, zero-point 0",
    int8ActivationQuantization: "uint8 static, zero-point 0; pixels scale 1/255, hidden scale calibrated",
    opset: OPSET,
    onnxruntime: `onnxruntime-node ${ORT_VERSION}`,
    node: process.version,
    int8SizeRatio: round(int8Size.totalRatio, 3),
    qdqSizeRatio: round(qdqSize.totalRatio, 3),
  };
  for (const v of MODEL_VARIANTS) {
    training[`${v}ArgmaxMismatches`] = equivalence[v]!.argmaxMismatches;
    training[`${v}MaxAbsLogitDiff`] = equivalence[v]!.maxAbsLogitDiff;
  }
  const manifest = manifestSchema.parse({
    version: MANIFEST_VERSION,
    dataset: "fashion-mnist",
    inputSize: INPUT_SIZE,
    classes: [...FASHION_MNIST_CLASSES],
    experts: shape.experts,
    topK: shape.topK,
    hiddenUnits: shape.hidden,
    models: files.map((f) => f.entry),
    accuracy: { ...accuracy, testImages: data.test.count },
    training,
  } satisfies ModelManifest);
  const text = await format(JSON.stringify(manifest), { parser: "json", printWidth: 110 });
  writeModels(outDir, files, text);
  const allBytes = files.reduce((a, f) => a + f.bytes.length, 0);

  const gap = accuracy.fp32 - accuracy.int8;
  const checks = [
    [
      `int8 accuracy ${accuracy.int8.toFixed(4)} ≥ ${TARGET_INT8_ACCURACY}`,
      accuracy.int8 >= TARGET_INT8_ACCURACY,
    ],
    [
      `int8 within ${TARGET_INT8_GAP} of fp32 (fp32 ${accuracy.fp32.toFixed(4)}, gap ${gap.toFixed(4)})`,
      Math.abs(gap) <= TARGET_INT8_GAP,
    ],
    [
      `int8 files ${int8Size.totalRatio.toFixed(2)}× smaller than fp32 (per file ≥ ${int8Size.minFileRatio.toFixed(2)}×) ≥ ${TARGET_SIZE_RATIO}×`,
      int8Size.minFileRatio >= TARGET_SIZE_RATIO,
    ],
    [
      `gate+experts reproduce moe on all ${data.test.count} test images (mismatches fp32/int8/qdq: ` +
        `${MODEL_VARIANTS.map((v) => equivalence[v]!.argmaxMismatches).join("/")})`,
      MODEL_VARIANTS.every((v) => equivalence[v]!.argmaxMismatches === 0),
    ],
  ] as const;
  log(
    `wrote ${files.length} models (${(allBytes / 1e6).toFixed(2)} MB) + manifest.json to ${outDir} in ${(buildMs / 1000).toFixed(1)} s ` +
      `(CPU ${(cpuMs() / 1000).toFixed(1)} s; the machine is shared, so wall time depends on its load)`,
  );
  log(
    `accuracy on ${data.test.count} test images (onnxruntime-node, moe graphs): fp32 ${accuracy.fp32.toFixed(4)}  int8 ${accuracy.int8.toFixed(4)}  qdq ${accuracy.qdq.toFixed(4)} (float activations: ${qdqFloatActivations.toFixed(4)})`,
  );
  for (const [text, ok] of checks) log(`${ok ? "REACHED    " : "NOT REACHED"}  ${text}`);
  if (preliminary) log("PRELIMINARY models: rebuild without --preliminary for the real ones.");
  return 0;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
