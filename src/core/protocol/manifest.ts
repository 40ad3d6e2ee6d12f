import { z } from "zod";

/**
 * public/models/manifest.json: what `npm run models:build` produced. Every consumer (the expert worker, the
 * Node runner, the router, the UI, the benchmark) reads models through this file, and a model's bytes are
 * only used after their SHA-256 matched the entry here.
 *
 * Files, for each variant V of "fp32" | "int8" | "qdq":
 *   gate-V.onnx        input `pixels` float32 [N, 784] (pixel/255) → `weights` float32 [N, E] (the top-k
 *                      softmax weights scattered into E slots, 0 elsewhere) and `experts` int64 [N, k]
 *                      (the chosen expert indices, best first)
 *   expert-I-V.onnx    input `pixels` float32 [N, 784] → `logits` float32 [N, 10] (I = 0..E-1)
 *   moe-V.onnx         the whole mixture in one graph: `pixels` [N, 784] → `logits` [N, 10], equal to
 *                      Σ_e weights[:, e] · expert_e(pixels) summed in expert order
 *
 * Variants: "int8" = static int8 (QuantizeLinear with calibrated scales + MatMulInteger + Cast/Mul/Add), the
 * graph the `wasm` provider runs natively, and whose integer products do not depend on the rest of the batch;
 * "qdq" = int8 weights behind DequantizeLinear + float MatMul, for the `webgpu` provider; "fp32" the
 * reference.
 */
export const MANIFEST_VERSION = 1;
export const MODEL_VARIANTS = ["fp32", "int8", "qdq"] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];
export const MODEL_ROLES = ["gate", "expert", "moe"] as const;
export const EXECUTION_PROVIDERS = ["wasm", "webgpu"] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

const dim = z.union([z.number().int().positive(), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)]);
export const tensorInfoSchema = z.strictObject({
  name: z.string().min(1).max(128),
  type: z.enum(["float32", "int64"]),
  shape: z.array(dim).min(1).max(8),
});
export type TensorInfo = z.infer<typeof tensorInfoSchema>;

export const manifestModelSchema = z.strictObject({
  /** "gate", "expert-3", "moe": unique together with the variant. */
  name: z.string().regex(/^(gate|moe|expert-\d{1,3})$/),
  role: z.enum(MODEL_ROLES),
  /** Set for role "expert". */
  expert: z.number().int().min(0).max(999).optional(),
  variant: z.enum(MODEL_VARIANTS),
  /** Relative to the manifest (public/models/). */
  file: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,127}\.onnx$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z
    .number()
    .int()
    .positive()
    .max(256 * 1024 * 1024),
  inputs: z.array(tensorInfoSchema).min(1).max(8),
  outputs: z.array(tensorInfoSchema).min(1).max(8),
  /** Providers this variant is meant for, preferred first. */
  providers: z.array(z.enum(EXECUTION_PROVIDERS)).min(1),
});
export type ManifestModel = z.infer<typeof manifestModelSchema>;

const accuracySchema = z.strictObject({
  /** Fraction of the test set classified correctly by moe-V.onnx under onnxruntime (node, CPU). */
  fp32: z.number().min(0).max(1),
  int8: z.number().min(0).max(1),
  qdq: z.number().min(0).max(1),
  testImages: z.number().int().positive(),
});

export const manifestSchema = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  dataset: z.literal("fashion-mnist"),
  inputSize: z.literal(784),
  classes: z.array(z.string().min(1).max(64)).length(10),
  experts: z.number().int().min(2).max(256),
  topK: z.number().int().min(1).max(16),
  hiddenUnits: z.number().int().positive().max(4096),
  models: z.array(manifestModelSchema).min(1).max(2048),
  accuracy: accuracySchema,
  /** How the models were made (seed, epochs, wall time, onnxruntime version used to measure): free form. */
  training: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
export type ModelManifest = z.infer<typeof manifestSchema>;

/** The manifest entry for (name, variant), or undefined. */
export function findModel(
  manifest: ModelManifest,
  name: string,
  variant: ModelVariant,
): ManifestModel | undefined {
  return manifest.models.find((m) => m.name === name && m.variant === variant);
}

/** Fashion-MNIST's class names, in label order. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;
