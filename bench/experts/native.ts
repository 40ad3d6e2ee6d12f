import { argmaxRows } from "../../src/core/experts/router/index.ts";
import { findModel, type ModelManifest } from "../../src/core/protocol/manifest.ts";
import { OrtNodeRunner } from "../../src/node/ort-node-runner.ts";
import type { PassSettings, PassTimes } from "./passes.ts";
import type { MoeModel } from "./rows.ts";

/**
 * The native reference: the whole-MoE graph on onnxruntime-node (CPU), on the same files the browser is
 * served (dist/models), the same images, batch size and thread count. Run before the browser starts, so the
 * two never share the cores.
 */
export async function timeNative(
  modelsDir: string,
  manifest: ModelManifest,
  model: MoeModel,
  pixels: Float32Array,
  settings: PassSettings & { readonly reps: number; readonly warmup: number },
): Promise<PassTimes> {
  const variant = model === "moe-int8" ? "int8" : "fp32";
  const entry = findModel(manifest, "moe", variant);
  if (!entry) throw new Error(`the manifest has no moe (${variant})`);
  const runner = new OrtNodeRunner(modelsDir, { intraOpThreads: settings.threads });
  const loaded = await runner.load({ kind: "manifest", entry, url: entry.file });
  const cols = loaded.inputCols;
  const classes = manifest.classes.length;
  const logits = new Float32Array(settings.images * classes);
  const pass = async (): Promise<{ wallMs: number; computeMs: number }> => {
    let computeMs = 0;
    const started = performance.now();
    for (let at = 0; at < settings.images; at += settings.batchRows) {
      const n = Math.min(settings.batchRows, settings.images - at);
      const out = await runner.run(loaded.sha256, pixels.subarray(at * cols, (at + n) * cols), n);
      computeMs += out.ms;
      const first = out.outputs[loaded.outputNames[0] ?? ""];
      if (!first) throw new Error(`${model} gave no output`);
      logits.set(first.data, at * classes);
    }
    return { wallMs: performance.now() - started, computeMs };
  };
  for (let i = 0; i < settings.warmup; i++) await pass();
  const wall: number[] = [];
  const compute: number[] = [];
  for (let i = 0; i < settings.reps; i++) {
    const p = await pass();
    wall.push(p.wallMs);
    compute.push(p.computeMs);
  }
  await runner.unload(loaded.sha256);
  return {
    model,
    provider: runner.provider,
    passWallMs: wall,
    passComputeMs: compute,
    loadMs: loaded.loadMs,
    predictions: [...argmaxRows(logits, classes)],
  };
}
