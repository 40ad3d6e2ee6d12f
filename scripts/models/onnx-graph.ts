import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

// onnx-proto is CommonJS (module.exports = $root): Node's ESM loader exposes it as the default export only.
const { onnx } = onnxProto;

/**
 * A small builder for ONNX graphs over onnx-proto (protobufjs): unique tensor names, initializers from typed
 * arrays (raw little-endian data), nodes with typed attributes, and the model envelope. Opset 17 (IR 8): every
 * op used here (QuantizeLinear, DequantizeLinear per-axis, MatMulInteger, TopK, ScatterElements, ReduceSum with
 * axes as input) has a kernel in onnxruntime 1.30's CPU provider and in onnxruntime-web.
 */
export const OPSET = 17;
export const IR_VERSION = 8;

export const DataType = {
  float: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  int64: onnx.TensorProto.DataType.INT64,
} as const;
export type ElemType = keyof typeof DataType;

export type AttributeValue = number | number[] | { float: number } | { tensor: OnnxTypes.ITensorProto };

export type Dim = number | string;

export interface ValueInfo {
  readonly name: string;
  readonly type: ElemType;
  readonly shape: readonly Dim[];
}

export class GraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly names = new Set<string>();

  /** A fresh tensor name starting with `base`. */
  name(base: string): string {
    let candidate = base;
    for (let i = 1; this.names.has(candidate); i++) candidate = `${base}_${i}`;
    this.names.add(candidate);
    return candidate;
  }

  /** Reserves a fixed name (graph inputs and outputs); fails on a clash. */
  reserve(name: string): string {
    if (this.names.has(name)) throw new Error(`tensor name ${name} is already used`);
    this.names.add(name);
    return name;
  }

  float(base: string, dims: readonly number[], data: Float32Array): string {
    return this.initializer(base, "float", dims, bytesOf(data), data.length);
  }

  int8(base: string, dims: readonly number[], data: Int8Array): string {
    return this.initializer(base, "int8", dims, bytesOf(data), data.length);
  }

  uint8(base: string, dims: readonly number[], data: Uint8Array): string {
    return this.initializer(base, "uint8", dims, bytesOf(data), data.length);
  }

  int64(base: string, dims: readonly number[], data: readonly number[]): string {
    const array = BigInt64Array.from(data, (v) => BigInt(v));
    return this.initializer(base, "int64", dims, bytesOf(array), data.length);
  }

  /** Adds a node; returns its output names (fresh names from `outputs`, or the reserved ones given). */
  node(
    op: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): string[] {
    // Nodes stay unnamed (optional in ONNX): names would only add bytes; tensor names carry the meaning.
    this.nodes.push({
      opType: op,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return [...outputs];
  }

  /** A node with one fresh output named after `base`. */
  op(
    op: string,
    inputs: readonly string[],
    base: string,
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ) {
    return this.node(op, inputs, [this.name(base)], attributes)[0]!;
  }

  /** Encodes the model. */
  build(
    graphName: string,
    inputs: readonly ValueInfo[],
    outputs: readonly ValueInfo[],
    doc: string,
  ): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: OPSET }],
      producerName: "open-swarm models:build",
      producerVersion: "1",
      docString: doc,
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private initializer(base: string, type: ElemType, dims: readonly number[], raw: Uint8Array, count: number) {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== count)
      throw new Error(`initializer ${base}: dims [${dims}] hold ${expected}, got ${count}`);
    const name = this.name(base);
    this.initializers.push({ name, dims: [...dims], dataType: DataType[type], rawData: raw });
    return name;
  }
}

function valueInfo(v: ValueInfo): OnnxTypes.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DataType[v.type],
        shape: { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ("float" in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.TENSOR, t: value.tensor };
}

/** Little-endian bytes of a typed array (copied; x86 and ARM hosts are little-endian, checked below). */
function bytesOf(array: Float32Array | Int8Array | Uint8Array | BigInt64Array): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error("big-endian hosts are not supported");
  return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
}

/** A one-element float tensor for ConstantOfShape's `value`. */
export function scalarTensor(value: number): { tensor: OnnxTypes.ITensorProto } {
  return { tensor: { dims: [1], dataType: DataType.float, rawData: bytesOf(new Float32Array([value])) } };
}
