/**
 * Test fixtures for the swarm mixture-of-experts: a tiny MoE built as real ONNX graphs (onnx-proto) with the
 * manifest's interface (gate → weights [N, E] + experts int64 [N, k]; expert → logits [N, 10]; moe = the
 * whole mixture summed in expert order), for tests that must not depend on public/models; plus helpers for
 * the real models (manifest, Fashion-MNIST test images) when they exist.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import onnxProto from "onnx-proto";
import { parseIdxImages, pixelsToInput } from "../../../src/core/formats/idx.ts";
import {
  manifestSchema,
  type ModelManifest,
  type ModelVariant,
} from "../../../src/core/protocol/manifest.ts";
import {
  manifestResolver as coreManifestResolver,
  type ModelRunner,
  type ModelSource,
  moeSourcesFromManifest,
} from "../../../src/core/experts/models/index.ts";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import type { HostFault } from "../../../src/core/experts/host/faults.ts";
import { ExpertRouter, type ExpertRouterOptions } from "../../../src/core/experts/router/index.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { seededRandom as seeded } from "../../../src/node/seeded-random.ts";
import { FASHION_TEST_IMAGES } from "../../../src/node/fashion-mnist.ts";

const { onnx } = onnxProto;
const FLOAT = 1;
const INT64 = 7;

export const MODELS_DIR = new URL("../../../public/models/", import.meta.url).pathname;
export { FASHION_TEST_IMAGES };

export { seededRandom as seeded } from "../../../src/node/seeded-random.ts";

function tensor(name: string, dims: number[], values: Float32Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer.slice(0)) };
}

function int64Tensor(name: string, values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: values };
}

function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function node(op: string, inputs: string[], outputs: string[], attrs: onnxProto.onnx.IAttributeProto[] = []) {
  return { opType: op, input: inputs, output: outputs, attribute: attrs, name: `${op}_${outputs[0]}` };
}

function modelBytes(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: "open-swarm-tests",
    opsetImport: [{ domain: "", version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface TinyMoe {
  readonly inputCols: number;
  readonly experts: number;
  readonly topK: number;
  readonly gate: Uint8Array;
  readonly expertModels: readonly Uint8Array[];
  readonly moe: Uint8Array;
}

/** A tiny mixture (float32 weights): input [N, cols], E linear experts, top-k softmax gate. */
export function buildTinyMoe(
  options: { cols?: number; experts?: number; topK?: number; seed?: number } = {},
): TinyMoe {
  const cols = options.cols ?? 16;
  const e = options.experts ?? 4;
  const k = options.topK ?? 2;
  const random = seeded(options.seed ?? 7);
  const randn = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  const gateW = randn(cols * e, 1);
  const gateB = randn(e, 0.1);
  const expertW = Array.from({ length: e }, () => randn(cols * 10, 0.5));
  const expertB = Array.from({ length: e }, () => randn(10, 0.1));

  const gateNodes = (prefix: string) => [
    node("MatMul", ["pixels", `${prefix}gw`], [`${prefix}gm`]),
    node("Add", [`${prefix}gm`, `${prefix}gb`], [`${prefix}gl`]),
    node(
      "TopK",
      [`${prefix}gl`, `${prefix}k`],
      [`${prefix}tv`, "experts"],
      [{ name: "axis", type: 2, i: 1 }],
    ),
    node("Softmax", [`${prefix}tv`], [`${prefix}sm`], [{ name: "axis", type: 2, i: 1 }]),
    node("Sub", [`${prefix}gl`, `${prefix}gl`], [`${prefix}zeros`]),
    node(
      "ScatterElements",
      [`${prefix}zeros`, "experts", `${prefix}sm`],
      ["weights"],
      [{ name: "axis", type: 2, i: 1 }],
    ),
  ];
  const gateInits = (prefix: string) => [
    tensor(`${prefix}gw`, [cols, e], gateW),
    tensor(`${prefix}gb`, [e], gateB),
    int64Tensor(`${prefix}k`, [k]),
  ];
  const gate = modelBytes({
    name: "gate",
    node: gateNodes(""),
    initializer: gateInits(""),
    input: [valueInfo("pixels", FLOAT, ["N", cols])],
    output: [valueInfo("weights", FLOAT, ["N", e]), valueInfo("experts", INT64, ["N", k])],
  });
  const expertModels = expertW.map((w, i) =>
    modelBytes({
      name: `expert-${i}`,
      node: [node("MatMul", ["pixels", "w"], ["m"]), node("Add", ["m", "b"], ["logits"])],
      initializer: [tensor("w", [cols, 10], w), tensor("b", [10], expertB[i]!)],
      input: [valueInfo("pixels", FLOAT, ["N", cols])],
      output: [valueInfo("logits", FLOAT, ["N", 10])],
    }),
  );
  // The whole mixture: Σ_e weights[:, e] · expert_e(pixels), an Add chain in expert order.
  const moeNodes = [...gateNodes("")];
  const moeInits = [...gateInits("")];
  for (let i = 0; i < e; i++) {
    moeInits.push(tensor(`w${i}`, [cols, 10], expertW[i]!), tensor(`b${i}`, [10], expertB[i]!));
    moeInits.push(int64Tensor(`s${i}`, [i]), int64Tensor(`t${i}`, [i + 1]));
    moeNodes.push(
      node("MatMul", ["pixels", `w${i}`], [`m${i}`]),
      node("Add", [`m${i}`, `b${i}`], [`y${i}`]),
      node("Slice", ["weights", `s${i}`, `t${i}`, "axis1"], [`c${i}`]),
      node("Mul", [`c${i}`, `y${i}`], [`p${i}`]),
    );
    if (i > 0)
      moeNodes.push(node("Add", [i === 1 ? "p0" : `a${i - 1}`, `p${i}`], [i === e - 1 ? "logits" : `a${i}`]));
  }
  moeInits.push(int64Tensor("axis1", [1]));
  const moe = modelBytes({
    name: "moe",
    node: moeNodes,
    initializer: moeInits,
    input: [valueInfo("pixels", FLOAT, ["N", cols])],
    output: [valueInfo("logits", FLOAT, ["N", 10])],
  });
  return { inputCols: cols, experts: e, topK: k, gate, expertModels, moe };
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function bytesSource(bytes: Uint8Array, label: string): ModelSource {
  return { kind: "bytes", sha256: sha256(bytes), bytes, label };
}

/** Random inputs in [0, 1). */
export function randomInputs(rows: number, cols: number, seed: number): Float32Array {
  const random = seeded(seed);
  return Float32Array.from({ length: rows * cols }, () => random());
}

/** public/models/manifest.json, or null while the models are not there yet. */
export function loadManifest(): ModelManifest | null {
  const path = `${MODELS_DIR}manifest.json`;
  if (!existsSync(path)) return null;
  return manifestSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}

export function manifestSources(manifest: ModelManifest, variant: ModelVariant) {
  const sources = moeSourcesFromManifest(manifest, variant, (file) => `${MODELS_DIR}${file}`);
  if (!sources.moe) throw new Error(`manifest has no moe-${variant}`);
  return { ...sources, moe: sources.moe };
}

/** The host's resolver for manifest models: by digest, in public/models/manifest.json. */
export function manifestResolver(manifest: ModelManifest) {
  return coreManifestResolver(manifest, (file) => `${MODELS_DIR}${file}`);
}

/** The first `count` Fashion-MNIST test images as pixel/255 rows (IDX3, gzip), or null when absent. */
export function fashionTestImages(count: number): Float32Array | null {
  if (!existsSync(FASHION_TEST_IMAGES)) return null;
  const images = parseIdxImages(new Uint8Array(gunzipSync(readFileSync(FASHION_TEST_IMAGES))), {
    rows: 28,
    cols: 28,
  });
  const n = Math.min(count, images.count);
  return pixelsToInput(images.pixels.subarray(0, n * 784));
}

// ---- a swarm in one process: a router and hosts over the in-memory hub, each with its own ORT runner ----

export interface SwarmHostSpec {
  readonly id: string;
  readonly fault?: HostFault;
  readonly maxQueuedRequests?: number;
  /** TEST ONLY, a lying client's false claim: the provider its `hosting` announcements name. */
  readonly claimProvider?: "webgpu" | "wasm";
}

/** A runner that says it runs on `provider` (a host's claim, which nobody can check). */
function claiming(runner: OrtNodeRunner, provider: "webgpu" | "wasm"): ModelRunner {
  return {
    provider,
    load: (source) => runner.load(source),
    run: (sha, input, rows) => runner.run(sha, input, rows),
    unload: (sha) => runner.unload(sha),
  };
}

export interface Swarm {
  readonly hub: MemoryExpertHub;
  readonly router: ExpertRouter;
  readonly local: OrtNodeRunner;
  readonly hosts: ReadonlyMap<string, ExpertHost>;
  close(): Promise<void>;
}

export function startSwarm(options: {
  gate: ModelSource;
  experts: readonly ModelSource[];
  hosts: readonly SwarmHostSpec[];
  resolveManifest?: (sha: string, file: string) => ModelSource | undefined;
  router?: Partial<ExpertRouterOptions>;
  latencyMs?: number;
  /** Hosts announce themselves instead of the router being given the volunteers. */
  announce?: boolean;
}): Swarm {
  const hub = new MemoryExpertHub({ latencyMs: options.latencyMs ?? 0 });
  const local = new OrtNodeRunner(MODELS_DIR);
  const hosts = new Map<string, ExpertHost>();
  for (const spec of options.hosts) {
    hosts.set(
      spec.id,
      new ExpertHost({
        link: hub.link(spec.id),
        runner: spec.claimProvider
          ? claiming(new OrtNodeRunner(MODELS_DIR), spec.claimProvider)
          : new OrtNodeRunner(MODELS_DIR),
        resolveManifest: options.resolveManifest ?? (() => undefined),
        allowNonManifest: true, // the tiny test models are no site's manifest: these hosts enable others
        ...(spec.fault ? { fault: spec.fault } : {}),
        ...(spec.maxQueuedRequests ? { maxQueuedRequests: spec.maxQueuedRequests } : {}),
      }),
    );
  }
  const router = new ExpertRouter({
    link: hub.link("requester"),
    local,
    gate: options.gate,
    experts: options.experts,
    random: seeded(99),
    ...options.router,
  });
  if (options.announce) for (const host of hosts.values()) host.announce(["requester"]);
  else router.setVolunteers(options.hosts.map((h) => h.id));
  return {
    hub,
    router,
    local,
    hosts,
    async close() {
      router.close();
      await Promise.all([...hosts.values()].map((h) => h.close()));
    },
  };
}

/** The whole-graph model's logits on the same rows (one run per 1024 rows). */
export async function wholeGraphLogits(
  runner: OrtNodeRunner,
  moe: ModelSource,
  x: Float32Array,
  rows: number,
  cols: number,
) {
  const info = await runner.load(moe);
  const out = new Float32Array(rows * 10);
  for (let at = 0; at < rows; at += 1024) {
    const n = Math.min(1024, rows - at);
    const run = await runner.run(info.sha256, x.subarray(at * cols, (at + n) * cols), n);
    out.set(run.outputs[info.outputNames[0]!]!.data, at * 10);
  }
  return out;
}

/** Rows whose logits differ in any bit. */
export function differingRows(a: Float32Array, b: Float32Array, classes = 10): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let rows = 0;
  for (let r = 0; r < a.length / classes; r++) {
    for (let c = 0; c < classes; c++) {
      if (ua[r * classes + c] !== ub[r * classes + c]) {
        rows++;
        break;
      }
    }
  }
  return rows;
}

export interface TestMoe {
  /** "int8 models from public/models on Fashion-MNIST" or "tiny fp32 MoE on random inputs". */
  readonly label: string;
  readonly gate: ModelSource;
  readonly experts: readonly ModelSource[];
  readonly moe: ModelSource;
  readonly cols: number;
  readonly resolveManifest: (sha: string, file: string) => ModelSource | undefined;
  /** `rows` inputs; different seeds give different rows. */
  inputs(rows: number, seed: number): Float32Array;
}

/** The committed int8 models on real test images when they exist, else a tiny MoE built here. */
export function testMoe(): TestMoe {
  const manifest = loadManifest();
  const images = manifest ? fashionTestImages(10_000) : null;
  if (manifest && images) {
    const sources = manifestSources(manifest, "int8");
    const count = images.length / 784;
    return {
      label: "int8 models from public/models on Fashion-MNIST test images",
      ...sources,
      cols: 784,
      resolveManifest: manifestResolver(manifest),
      inputs(rows, seed) {
        const out = new Float32Array(rows * 784);
        for (let r = 0; r < rows; r++) {
          const i = (seed * 1237 + r) % count;
          out.set(images.subarray(i * 784, (i + 1) * 784), r * 784);
        }
        return out;
      },
    };
  }
  const tiny = buildTinyMoe({ experts: 6, topK: 2, seed: 5 });
  return {
    label: "tiny fp32 MoE (public/models absent) on random inputs",
    gate: bytesSource(tiny.gate, "gate"),
    experts: tiny.expertModels.map((b, i) => bytesSource(b, `expert-${i}`)),
    moe: bytesSource(tiny.moe, "moe"),
    cols: tiny.inputCols,
    resolveManifest: () => undefined,
    inputs: (rows, seed) => randomInputs(rows, tiny.inputCols, seed),
  };
}
