import * as ort from "onnxruntime-node";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { argmaxRows } from "../../../src/core/experts/router/index.ts";
import { manifestModelSchema } from "../../../src/core/protocol/manifest.ts";
import { calibrateHiddenScales } from "../../../scripts/models/calibrate.ts";
import { compareSwarmToWhole, OrtModel } from "../../../scripts/models/evaluate.ts";
import { buildAllGraphs } from "../../../scripts/models/export.ts";
import { forward, initParams, type MoeParams, type MoeShape } from "../../../scripts/models/moe.ts";
import { quantizeMoe, type MoeModel } from "../../../scripts/models/moe-graphs.ts";
import { dequantize } from "../../../scripts/models/quantize.ts";
import { createRng } from "../../../scripts/models/rng.ts";

const { onnx } = onnxProto;

/** A tiny mixture exported in every variant and run in onnxruntime-node, against the TypeScript forward pass. */
describe("ONNX export of a tiny mixture", () => {
  const shape: MoeShape = { inputs: 20, experts: 4, hidden: 7, classes: 5, topK: 2 };
  const rows = 300;
  const rng = createRng(3);
  const params = initParams(shape, rng, 0.5);
  for (const e of params.experts) for (let i = 0; i < e.b1.length; i++) e.b1[i] = 0.2 * rng.normal();
  // Inputs are pixel/255 values, as in the real data (so the int8 input quantization is exact).
  const x = Float32Array.from({ length: rows * shape.inputs }, () =>
    rng.next() < 0.4 ? 0 : rng.int(256) / 255,
  );
  const hiddenScales = calibrateHiddenScales(params, x, rows, { rowsPerExpert: rows, quantile: 1 });
  const model: MoeModel = { params, quantized: quantizeMoe(params, hiddenScales) };
  const files = buildAllGraphs(model);
  const bytesOf = (name: string, variant: string) =>
    files.find((f) => f.entry.name === name && f.entry.variant === variant)!.bytes;
  const { logits: reference, weights: refWeights, chosen: refChosen } = forward(params, x, rows);

  async function run(name: string, variant: string, optimization: "basic" | "all" = "all") {
    const m = await OrtModel.load(bytesOf(name, variant), shape.inputs, optimization);
    const out = await m.run(x, rows, 64);
    await m.release();
    return out;
  }

  function maxAbsDiff(a: Float32Array, b: Float32Array): number {
    expect(a.length).toBe(b.length);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    return d;
  }

  it("writes 3 × (gate + E experts + moe) entries that satisfy the manifest schema", () => {
    expect(files).toHaveLength(3 * (shape.experts + 2));
    for (const f of files) {
      manifestModelSchema.parse(f.entry);
      expect(f.entry.bytes).toBe(f.bytes.length);
    }
  });

  it("fp32 gate and moe graphs match the TypeScript forward pass", async () => {
    const gate = await run("gate", "fp32");
    expect(maxAbsDiff(gate["weights"]!, refWeights)).toBeLessThan(1e-5);
    expect([...gate["experts"]!]).toEqual([...refChosen]);
    const moe = await run("moe", "fp32");
    expect(maxAbsDiff(moe["logits"]!, reference)).toBeLessThan(1e-4);
  });

  it("qdq moe matches the TypeScript forward pass with dequantized weights", async () => {
    const dq: MoeParams = {
      ...params,
      gateW: dequantize(model.quantized.gate),
      experts: params.experts.map((e, i) => ({
        ...e,
        w1: dequantize(model.quantized.experts[i]!.w1),
        w2: dequantize(model.quantized.experts[i]!.w2),
      })),
    };
    // "basic": see OrtModel.load (the CPU provider otherwise also quantizes the activations).
    const moe = await run("moe", "qdq", "basic");
    expect(maxAbsDiff(moe["logits"]!, forward(dq, x, rows).logits)).toBeLessThan(1e-4);
  });

  it("int8 moe stays close to fp32 and its graph uses integer matmuls only", async () => {
    const logits = (await run("moe", "int8"))["logits"]!;
    const chosen = (await run("gate", "int8"))["experts"]!;
    const predicted = argmaxRows(logits, shape.classes);
    const expected = argmaxRows(reference, shape.classes);
    expect(predicted.filter((c, r) => c === expected[r]).length).toBeGreaterThanOrEqual(0.95 * rows);
    // Where the quantized gate routes like the float one, the logits differ by quantization error only.
    const scale = Math.max(...reference.map(Math.abs));
    let sameRouting = 0;
    for (let r = 0; r < rows; r++) {
      const k = shape.topK;
      if (chosen.slice(r * k, r * k + k).join() !== refChosen.slice(r * k, r * k + k).join()) continue;
      sameRouting++;
      const c = shape.classes;
      expect(maxAbsDiff(logits.slice(r * c, r * c + c), reference.slice(r * c, r * c + c))).toBeLessThan(
        0.05 * scale,
      );
    }
    expect(sameRouting).toBeGreaterThanOrEqual(0.9 * rows);
    const session = await ort.InferenceSession.create(bytesOf("moe", "int8"));
    expect(session.inputNames).toEqual(["pixels"]);
    expect(session.outputNames).toEqual(["logits"]);
    await session.release();
    const ops = new Set(
      (onnx.ModelProto.decode(bytesOf("moe", "int8")).graph?.node ?? []).map((n) => n.opType),
    );
    expect(ops.has("MatMulInteger")).toBe(true);
    expect(ops.has("MatMul")).toBe(false);
    expect(ops.has("DynamicQuantizeLinear")).toBe(false);
  });

  it.each(["fp32", "int8", "qdq"])(
    "%s: gate + experts on routed subsets + combine reproduce the moe graph",
    async (variant) => {
      const moe = await run("moe", variant);
      const eq = await compareSwarmToWhole({
        gate: bytesOf("gate", variant),
        experts: Array.from({ length: shape.experts }, (_, e) => bytesOf(`expert-${e}`, variant)),
        moeLogits: moe["logits"]!,
        x,
        rows,
        inputCols: shape.inputs,
        classes: shape.classes,
        expertChunkRows: 13,
      });
      expect(eq.argmaxMismatches).toBe(0);
      // Integer products are exact whatever the batch: int8 must be bit-identical.
      if (variant === "int8") expect(eq.rowsNotIdentical).toBe(0);
      else expect(eq.maxAbsLogitDiff).toBeLessThan(1e-5);
      expect(eq.chosenCount.reduce((a, b) => a + b, 0)).toBe(rows * shape.topK);
    },
  );
});
