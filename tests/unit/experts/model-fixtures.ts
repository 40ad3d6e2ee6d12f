/**
 * Small real ONNX graphs for the expert-worker tests (made with onnx-proto, so the tests never depend on
 * public/models): an int8 expert (DynamicQuantizeLinear + MatMulInteger + Cast/Mul/Add, the graph the wasm
 * provider runs natively), a qdq expert (DequantizeLinear + MatMul) and an int8 gate whose second output is
 * int64 (TopK indices), all with the manifest's tensor names. Plus a local HTTP server for model files whose
 * answers a test can corrupt, and the manifest entries that describe the graphs.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import onnxProto from "onnx-proto";
import type { ManifestModel } from "../../../src/core/protocol/manifest.ts";
import type { ModelSource } from "../../../src/core/experts/models/index.ts";
import { seededRandom as seeded } from "../../../src/node/seeded-random.ts";

const { onnx } = onnxProto;
const FLOAT = 1;
const INT8 = 3;
const INT64 = 7;
export const INPUT_COLS = 784;

function tensor(name: string, dataType: number, dims: number[], raw: ArrayBufferView) {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType,
    rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
  });
}

function valueInfo(name: string, elemType: number, shape: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function node(opType: string, input: string[], output: string[], ints: Record<string, number> = {}) {
  const attribute = Object.entries(ints).map(([name, i]) => ({ name, i, type: 2 /* INT */ }));
  return onnx.NodeProto.create({ opType, input, output, attribute });
}

type Proto = typeof onnx;
function encode(
  nodes: NonNullable<Parameters<Proto["NodeProto"]["create"]>[0]>[],
  initializer: NonNullable<Parameters<Proto["TensorProto"]["create"]>[0]>[],
  inputs: NonNullable<Parameters<Proto["ValueInfoProto"]["create"]>[0]>[],
  outputs: NonNullable<Parameters<Proto["ValueInfoProto"]["create"]>[0]>[],
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "open-swarm-tests",
    graph: { name: "g", node: nodes, initializer, input: inputs, output: outputs },
  });
  // finish() gives a Node Buffer, whose slice() is a view: hand out a plain Uint8Array copy.
  return Uint8Array.from(onnx.ModelProto.encode(model).finish());
}

function int8Weights(seed: number, cols: number): Int8Array {
  const random = seeded(seed);
  return Int8Array.from({ length: INPUT_COLS * cols }, () => Math.round((random() - 0.5) * 200));
}

function bias(seed: number, cols: number): Float32Array {
  const random = seeded(seed + 1000);
  return Float32Array.from({ length: cols }, () => random() - 0.5);
}

/** int8 expert: pixels [N, 784] → logits [N, cols]. */
export function int8Expert(seed: number, cols = 10): Uint8Array {
  return encode(
    [
      node("DynamicQuantizeLinear", ["pixels"], ["xq", "xs", "xz"]),
      node("MatMulInteger", ["xq", "w", "xz", "wz"], ["acc"]),
      node("Cast", ["acc"], ["accf"], { to: FLOAT }),
      node("Mul", ["xs", "ws"], ["scale"]),
      node("Mul", ["accf", "scale"], ["y0"]),
      node("Add", ["y0", "b"], ["logits"]),
    ],
    [
      tensor("w", INT8, [INPUT_COLS, cols], int8Weights(seed, cols)),
      tensor("wz", INT8, [], new Int8Array([0])),
      tensor("ws", FLOAT, [], new Float32Array([0.01])),
      tensor("b", FLOAT, [cols], bias(seed, cols)),
    ],
    [valueInfo("pixels", FLOAT, ["N", INPUT_COLS])],
    [valueInfo("logits", FLOAT, ["N", cols])],
  );
}

/** qdq expert: int8 weights behind DequantizeLinear + float MatMul. */
export function qdqExpert(seed: number, cols = 10): Uint8Array {
  return encode(
    [
      node("DequantizeLinear", ["w", "ws", "wz"], ["wf"]),
      node("MatMul", ["pixels", "wf"], ["y0"]),
      node("Add", ["y0", "b"], ["logits"]),
    ],
    [
      tensor("w", INT8, [INPUT_COLS, cols], int8Weights(seed, cols)),
      tensor("ws", FLOAT, [], new Float32Array([0.01])),
      tensor("wz", INT8, [], new Int8Array([0])),
      tensor("b", FLOAT, [cols], bias(seed, cols)),
    ],
    [valueInfo("pixels", FLOAT, ["N", INPUT_COLS])],
    [valueInfo("logits", FLOAT, ["N", cols])],
  );
}

/** int8 gate: pixels → weights [N, experts] (softmax) and experts int64 [N, 2] (top-2 indices). */
export function int8Gate(seed: number, experts = 4): Uint8Array {
  return encode(
    [
      node("DynamicQuantizeLinear", ["pixels"], ["xq", "xs", "xz"]),
      node("MatMulInteger", ["xq", "w", "xz", "wz"], ["acc"]),
      node("Cast", ["acc"], ["accf"], { to: FLOAT }),
      node("Mul", ["xs", "ws"], ["scale"]),
      node("Mul", ["accf", "scale"], ["z"]),
      node("Softmax", ["z"], ["weights"], { axis: 1 }),
      node("TopK", ["z", "k"], ["topv", "experts"], { axis: 1 }),
    ],
    [
      tensor("w", INT8, [INPUT_COLS, experts], int8Weights(seed, experts)),
      tensor("wz", INT8, [], new Int8Array([0])),
      tensor("ws", FLOAT, [], new Float32Array([0.01])),
      tensor("k", INT64, [1], new BigInt64Array([2n])),
    ],
    [valueInfo("pixels", FLOAT, ["N", INPUT_COLS])],
    [valueInfo("weights", FLOAT, ["N", experts]), valueInfo("experts", INT64, ["N", 2])],
  );
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A manifest entry describing `bytes` as file `file`. */
export function entryFor(
  file: string,
  bytes: Uint8Array,
  variant: ManifestModel["variant"],
  overrides: Partial<ManifestModel> = {},
): ManifestModel {
  return {
    name: "expert-0",
    role: "expert",
    expert: 0,
    variant,
    file,
    sha256: sha256(bytes),
    bytes: bytes.byteLength,
    inputs: [{ name: "pixels", type: "float32", shape: ["N", INPUT_COLS] }],
    outputs: [{ name: "logits", type: "float32", shape: ["N", 10] }],
    providers: variant === "int8" ? ["wasm"] : ["webgpu", "wasm"],
    ...overrides,
  };
}

/** Rows of pixel-like values in [0, 1]. */
export function pixels(rows: number, seed: number): Float32Array {
  const random = seeded(seed);
  return Float32Array.from({ length: rows * INPUT_COLS }, () => Math.round(random() * 255) / 255);
}

/**
 * A real HTTP server for model files. `files` maps a path ("/models/x.onnx") to bytes; `hits` counts GETs
 * per path; `stall` paths never answer (for timeouts).
 */
export interface ModelServer {
  readonly baseUrl: string;
  readonly files: Map<string, Uint8Array>;
  readonly hits: Map<string, number>;
  readonly stall: Set<string>;
  close(): Promise<void>;
}

export async function startModelServer(): Promise<ModelServer> {
  const files = new Map<string, Uint8Array>();
  const hits = new Map<string, number>();
  const stall = new Set<string>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (stall.has(path)) return;
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": "application/octet-stream" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    files,
    hits,
    stall,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function manifestSourceAt(server: ModelServer, entry: ManifestModel): ModelSource {
  return { kind: "manifest", entry, url: `${server.baseUrl}/models/${entry.file}` };
}

/**
 * A ModelByteCache in memory (the worker's is the Cache API, exercised in e2e/experts-worker.spec.ts), with
 * a fault switch that makes writes fail.
 */
export class MemoryModelCache {
  readonly entries = new Map<string, Uint8Array>();
  faultPutFails = false;
  puts = 0;

  async get(sha256: string): Promise<Uint8Array | undefined> {
    const bytes = this.entries.get(sha256);
    return bytes ? bytes.slice() : undefined;
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    if (this.faultPutFails) throw new Error("fault injected: quota exceeded");
    this.puts++;
    this.entries.set(sha256, bytes.slice());
  }

  async delete(sha256: string): Promise<boolean> {
    return this.entries.delete(sha256);
  }

  async list(): Promise<string[]> {
    return [...this.entries.keys()];
  }
}
