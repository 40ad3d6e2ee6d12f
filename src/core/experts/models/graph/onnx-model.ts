import { packedVarints, ProtoError, readFields, utf8, WIRE, type ProtoField } from "./proto-reader.ts";

/**
 * The part of an ONNX ModelProto (onnx/onnx.proto3) that the graph budget (graph-budget.ts) needs: nodes with
 * their attributes, initializers' dims and types (their bytes are skipped, not copied), the graph's inputs
 * and outputs, and what makes a graph impossible to bound (subgraphs, local functions, external data).
 * Field numbers are onnx.proto's.
 */

export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Small integer contents (shape arithmetic), else null. */
  readonly ints: readonly number[] | null;
  /** Float contents when small, else null. */
  readonly floats: readonly number[] | null;
  readonly external: boolean;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly i: number | null;
  readonly f: number | null;
  readonly ints: readonly number[];
  readonly floats: readonly number[];
  readonly t: OnnxTensor | null;
  readonly s: string | null;
  /** The attribute holds a graph (If / Loop / Scan bodies). */
  readonly hasGraph: boolean;
}

export interface OnnxNode {
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number;
  /** Dims: a number, or a string for a symbolic one (or "" when absent); null when no shape is given. */
  readonly shape: readonly (number | string)[] | null;
}

export interface OnnxModel {
  readonly opsets: ReadonlyMap<string, number>;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly sparseInitializers: number;
  readonly localFunctions: number;
}

export interface ReadLimits {
  /** Nodes beyond which reading stops (the budget refuses the graph anyway). */
  readonly maxNodes: number;
}

/** Values kept from a tensor's contents (only shape-sized tensors matter). */
const SMALL = 64;
const MAX_REPEATED = 4096;

/** Throws ProtoError when the bytes are not a well-formed ModelProto with a graph, or have too many nodes. */
export function readOnnxModel(bytes: Uint8Array, limits: ReadLimits): OnnxModel {
  const opsets = new Map<string, number>();
  let graph: Uint8Array | null = null;
  let localFunctions = 0;
  readFields(bytes, (f) => {
    if (f.field === 7 && f.bytes) graph = f.bytes;
    else if (f.field === 8 && f.bytes) {
      let domain = "";
      let version = 0;
      readFields(f.bytes, (o) => {
        if (o.field === 1) domain = utf8(o.bytes);
        else if (o.field === 2 && o.wire === WIRE.varint) version = o.value;
      });
      opsets.set(domain === "ai.onnx" ? "" : domain, version);
    } else if (f.field === 25) localFunctions++;
  });
  if (!graph) throw new ProtoError("no graph in the model");
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  let sparseInitializers = 0;
  readFields(graph, (f) => {
    if (!f.bytes) return;
    if (f.field === 1) {
      if (nodes.length >= limits.maxNodes) throw new TooManyNodes(limits.maxNodes);
      nodes.push(readNode(f.bytes));
    } else if (f.field === 5) initializers.push(readTensor(f.bytes));
    else if (f.field === 15) sparseInitializers++;
    else if (f.field === 11) inputs.push(readValueInfo(f.bytes));
    else if (f.field === 12) outputs.push(readValueInfo(f.bytes));
  });
  return { opsets, nodes, initializers, inputs, outputs, sparseInitializers, localFunctions };
}

/** Thrown by readOnnxModel when the graph has more nodes than allowed (reading stops there). */
export class TooManyNodes extends ProtoError {
  constructor(readonly limit: number) {
    super(`more than ${limit} nodes`);
  }
}

function readNode(bytes: Uint8Array): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes = new Map<string, OnnxAttribute>();
  let opType = "";
  let domain = "";
  readFields(bytes, (f) => {
    if (f.field === 1) inputs.push(utf8(f.bytes));
    else if (f.field === 2) outputs.push(utf8(f.bytes));
    else if (f.field === 4) opType = utf8(f.bytes);
    else if (f.field === 7) domain = utf8(f.bytes);
    else if (f.field === 5 && f.bytes) {
      const a = readAttribute(f.bytes);
      attributes.set(a.name, a);
    }
    if (inputs.length + outputs.length > MAX_REPEATED) throw new ProtoError("a node with too many inputs");
  });
  return { opType, domain: domain === "ai.onnx" ? "" : domain, inputs, outputs, attributes };
}

function readAttribute(bytes: Uint8Array): OnnxAttribute {
  let name = "";
  let i: number | null = null;
  let fl: number | null = null;
  let t: OnnxTensor | null = null;
  let s: string | null = null;
  let hasGraph = false;
  const ints: number[] = [];
  const floats: number[] = [];
  readFields(bytes, (f) => {
    if (f.field === 1) name = utf8(f.bytes);
    else if (f.field === 2 && f.wire === WIRE.fixed32) fl = f.value;
    else if (f.field === 3 && f.wire === WIRE.varint) i = f.value;
    else if (f.field === 4) s = utf8(f.bytes).slice(0, 256);
    else if (f.field === 5 && f.bytes) t = readTensor(f.bytes);
    else if (f.field === 6 || f.field === 11) hasGraph = true;
    else if (f.field === 7) packedFloats(f, floats);
    else if (f.field === 8) packedVarints(f, ints, MAX_REPEATED);
  });
  return { name, i, f: fl, ints, floats, t, s, hasGraph };
}

function readTensor(bytes: Uint8Array): OnnxTensor {
  const dims: number[] = [];
  let name = "";
  let dataType = 0;
  let raw: Uint8Array | null = null;
  let external = false;
  const ints: number[] = [];
  const floats: number[] = [];
  let intsTooMany = false;
  readFields(bytes, (f) => {
    if (f.field === 1) packedVarints(f, dims, 64);
    else if (f.field === 2 && f.wire === WIRE.varint) dataType = f.value;
    else if (f.field === 8) name = utf8(f.bytes);
    else if (f.field === 9) raw = f.bytes;
    else if (f.field === 13) external = true;
    else if (f.field === 14 && f.wire === WIRE.varint) external ||= f.value === 1;
    else if ((f.field === 5 || f.field === 7) && !intsTooMany) {
      try {
        packedVarints(f, ints, SMALL);
      } catch {
        intsTooMany = true;
      }
    } else if (f.field === 4 && floats.length <= SMALL) packedFloats(f, floats);
  });
  const count = dims.reduce((a, b) => a * b, 1);
  let small: number[] | null = intsTooMany || ints.length === 0 ? null : ints;
  let smallFloats: number[] | null = floats.length > 0 && floats.length <= SMALL ? floats : null;
  const rawBytes = raw as Uint8Array | null;
  if (rawBytes && count <= SMALL) {
    const view = new DataView(rawBytes.buffer, rawBytes.byteOffset, rawBytes.byteLength);
    if ((dataType === 7 || dataType === 12) && rawBytes.byteLength === count * 8) {
      small = Array.from({ length: count }, (_, k) => Number(view.getBigInt64(k * 8, true)));
    } else if (dataType === 6 && rawBytes.byteLength === count * 4) {
      small = Array.from({ length: count }, (_, k) => view.getInt32(k * 4, true));
    } else if (dataType === 1 && rawBytes.byteLength === count * 4) {
      smallFloats = Array.from({ length: count }, (_, k) => view.getFloat32(k * 4, true));
    }
  }
  if (small && small.length !== count) small = null;
  return { name, dims, dataType, ints: small, floats: smallFloats, external };
}

function readValueInfo(bytes: Uint8Array): OnnxValueInfo {
  let name = "";
  let elemType = 0;
  let shape: (number | string)[] | null = null;
  readFields(bytes, (f) => {
    if (f.field === 1) name = utf8(f.bytes);
    else if (f.field === 2 && f.bytes) {
      readFields(f.bytes, (type) => {
        if (type.field !== 1 || !type.bytes) return; // tensor_type only
        readFields(type.bytes, (tt) => {
          if (tt.field === 1 && tt.wire === WIRE.varint) elemType = tt.value;
          else if (tt.field === 2 && tt.bytes) {
            const dims: (number | string)[] = [];
            readFields(tt.bytes, (d) => {
              if (d.field !== 1 || !d.bytes) return;
              let dim: number | string = "";
              readFields(d.bytes, (v) => {
                if (v.field === 1 && v.wire === WIRE.varint) dim = v.value;
                else if (v.field === 2) dim = utf8(v.bytes).slice(0, 64);
              });
              dims.push(dim);
              if (dims.length > 64) throw new ProtoError("a value with more than 64 dims");
            });
            shape = dims;
          }
        });
      });
    }
  });
  return { name, elemType, shape };
}

function packedFloats(f: ProtoField, out: number[]): void {
  if (f.wire === WIRE.fixed32) out.push(f.value);
  else if (f.bytes && f.bytes.byteLength % 4 === 0) {
    const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
    const n = Math.min(f.bytes.byteLength / 4, MAX_REPEATED);
    for (let k = 0; k < n; k++) out.push(view.getFloat32(k * 4, true));
  }
}
