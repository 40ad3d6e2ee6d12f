import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  MODEL_VARIANTS,
  type ExecutionProvider,
  type ManifestModel,
  type ModelVariant,
} from "../../src/core/protocol/manifest.ts";
import { expertGraph, gateGraph, moeGraph, type BuiltGraph, type MoeModel } from "./moe-graphs.ts";

/** Providers each variant is meant for, preferred first (see manifest.ts, and docs/ARCHITECTURE.md "Experts"). */
export const VARIANT_PROVIDERS: Readonly<Record<ModelVariant, ExecutionProvider[]>> = {
  int8: ["wasm"],
  qdq: ["webgpu", "wasm"],
  fp32: ["wasm", "webgpu"],
};

export interface ExportedFile {
  readonly entry: ManifestModel;
  readonly bytes: Uint8Array;
}

/** Every graph of every variant, in manifest order: per variant gate, expert-0..E-1, moe. */
export function buildAllGraphs(model: MoeModel): ExportedFile[] {
  const files: ExportedFile[] = [];
  for (const variant of MODEL_VARIANTS) {
    const add = (name: string, role: ManifestModel["role"], graph: BuiltGraph, expert?: number) => {
      const entry: ManifestModel = {
        name,
        role,
        ...(expert === undefined ? {} : { expert }),
        variant,
        file: `${name}-${variant}.onnx`,
        sha256: createHash("sha256").update(graph.bytes).digest("hex"),
        bytes: graph.bytes.length,
        inputs: graph.inputs,
        outputs: graph.outputs,
        providers: [...VARIANT_PROVIDERS[variant]],
      };
      files.push({ entry, bytes: graph.bytes });
    };
    add("gate", "gate", gateGraph(model, variant));
    for (let e = 0; e < model.params.shape.experts; e++)
      add(`expert-${e}`, "expert", expertGraph(model, variant, e), e);
    add("moe", "moe", moeGraph(model, variant));
  }
  return files;
}

const MODEL_FILE = /^(gate|moe|expert-\d{1,3})-(fp32|int8|qdq)\.onnx$/;

/** Writes the files and the manifest text into `dir`, removing model files of an earlier build not in this one. */
export function writeModels(dir: string, files: readonly ExportedFile[], manifestText: string): void {
  mkdirSync(dir, { recursive: true });
  const keep = new Set(files.map((f) => f.entry.file));
  for (const name of readdirSync(dir)) if (MODEL_FILE.test(name) && !keep.has(name)) rmSync(join(dir, name));
  for (const f of files) writeFileSync(join(dir, f.entry.file), f.bytes);
  writeFileSync(join(dir, "manifest.json"), manifestText);
}

/** Σ bytes of the variant's files, and the smallest per-file fp32/variant ratio. */
export function sizeRatio(files: readonly ExportedFile[], variant: ModelVariant) {
  const total = (v: ModelVariant) =>
    files.filter((f) => f.entry.variant === v).reduce((a, f) => a + f.bytes.length, 0);
  let minFileRatio = Infinity;
  for (const f of files.filter((x) => x.entry.variant === variant)) {
    const ref = files.find((x) => x.entry.variant === "fp32" && x.entry.name === f.entry.name);
    if (ref) minFileRatio = Math.min(minFileRatio, ref.bytes.length / f.bytes.length);
  }
  return {
    fp32Bytes: total("fp32"),
    variantBytes: total(variant),
    totalRatio: total("fp32") / total(variant),
    minFileRatio,
  };
}
