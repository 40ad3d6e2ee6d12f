import type { ModelVariant, TensorInfo } from "../../src/core/protocol/manifest.ts";
import type { MoeParams } from "./moe.ts";
import { GraphBuilder, scalarTensor, type ValueInfo } from "./onnx-graph.ts";
import { PIXEL_SCALE, quantizePerColumn, type QuantizedMatrix } from "./quantize.ts";

/**
 * ONNX graphs of the mixture, per variant, with the tensor names manifest.ts fixes:
 *   gate   pixels [N, D] → weights [N, E] float, experts [N, k] int64
 *   expert pixels [N, D] → logits [N, C]
 *   moe    pixels [N, D] → logits [N, C] = Σ_e weights[:, e] · expert_e(pixels)
 * The moe graph is made of the very same gate and expert subgraphs, so on one provider it computes exactly
 * what gate + experts + combine compute in the swarm.
 *
 * A dense layer per variant:
 *   fp32  MatMul(x, W) + b
 *   qdq   MatMul(x, DequantizeLinear(W_int8, s_w per column)) + b           (float activations, for webgpu)
 *   int8  Cast(MatMulInteger(x_uint8, W_int8)) · (s_x · s_w per column) + b  (static: s_x fixed at build time)
 */
export interface QuantizedMoe {
  readonly gate: QuantizedMatrix;
  readonly experts: readonly {
    readonly w1: QuantizedMatrix;
    readonly w2: QuantizedMatrix;
    /** uint8 scale of the hidden activations (zero-point 0). */
    readonly hiddenScale: number;
  }[];
}

export function quantizeMoe(params: MoeParams, hiddenScales: readonly number[]): QuantizedMoe {
  const { inputs: D, experts: E, hidden: H, classes: C } = params.shape;
  if (hiddenScales.length !== E) throw new Error(`${hiddenScales.length} hidden scales for ${E} experts`);
  return {
    gate: quantizePerColumn(params.gateW, D, E),
    experts: params.experts.map((ex, e) => ({
      w1: quantizePerColumn(ex.w1, D, H),
      w2: quantizePerColumn(ex.w2, H, C),
      hiddenScale: hiddenScales[e]!,
    })),
  };
}

export interface MoeModel {
  readonly params: MoeParams;
  readonly quantized: QuantizedMoe;
}

/** A layer's input: float (fp32, qdq) or uint8 with a fixed scale (int8). */
type LayerInput =
  | { readonly kind: "float"; readonly name: string }
  | {
      readonly kind: "uint8";
      readonly name: string;
      readonly scale: number;
    };

class MoeGraph {
  readonly g = new GraphBuilder();
  private pixelInput: LayerInput | undefined;

  constructor(
    private readonly model: MoeModel,
    readonly variant: ModelVariant,
  ) {
    this.g.reserve("pixels");
  }

  /** The graph input as this variant's layers consume it (int8: quantized once, shared by all layers). */
  pixels(): LayerInput {
    if (this.pixelInput) return this.pixelInput;
    if (this.variant !== "int8") {
      this.pixelInput = { kind: "float", name: "pixels" };
    } else {
      const scale = this.g.float("pixel_scale", [], new Float32Array([PIXEL_SCALE]));
      const zero = this.g.uint8("pixel_zero_point", [], new Uint8Array([0]));
      const q = this.g.op("QuantizeLinear", ["pixels", scale, zero], "pixels_uint8");
      this.pixelInput = { kind: "uint8", name: q, scale: PIXEL_SCALE };
    }
    return this.pixelInput;
  }

  dense(prefix: string, x: LayerInput, w: Float32Array, q: QuantizedMatrix, b: Float32Array, out?: string) {
    const g = this.g;
    const bias = g.float(`${prefix}_bias`, [q.cols], b);
    const target = out ?? g.name(`${prefix}_out`);
    if (this.variant === "fp32") {
      if (x.kind !== "float") throw new Error("fp32 layers take float input");
      const weight = g.float(`${prefix}_weight`, [q.rows, q.cols], w);
      const mm = g.op("MatMul", [x.name, weight], `${prefix}_matmul`);
      return g.node("Add", [mm, bias], [target])[0]!;
    }
    const weightQ = g.int8(`${prefix}_weight_int8`, [q.rows, q.cols], q.q);
    if (this.variant === "qdq") {
      if (x.kind !== "float") throw new Error("qdq layers take float input");
      const scales = g.float(`${prefix}_weight_scale`, [q.cols], q.scales);
      const weight = g.op("DequantizeLinear", [weightQ, scales], `${prefix}_weight`, { axis: 1 });
      const mm = g.op("MatMul", [x.name, weight], `${prefix}_matmul`);
      return g.node("Add", [mm, bias], [target])[0]!;
    }
    if (x.kind !== "uint8") throw new Error("int8 layers take uint8 input");
    // One float32 multiplier per column, s_x · s_w[j], rounded once here: the graph does a single Mul.
    const multiplier = Float32Array.from(q.scales, (s) => x.scale * s);
    const mult = g.float(`${prefix}_multiplier`, [q.cols], multiplier);
    const acc = g.op("MatMulInteger", [x.name, weightQ], `${prefix}_int32`);
    const asFloat = g.op("Cast", [acc], `${prefix}_float`, { to: 1 });
    const scaled = g.op("Mul", [asFloat, mult], `${prefix}_scaled`);
    return g.node("Add", [scaled, bias], [target])[0]!;
  }

  /** Gate subgraph: returns the names of weights [N, E] and experts [N, k]. */
  gate(names: { weights?: string; experts?: string } = {}): { weights: string; experts: string } {
    const { params, quantized } = this.model;
    const g = this.g;
    const logits = this.dense("gate", this.pixels(), params.gateW, quantized.gate, params.gateB);
    const k = g.int64("gate_k", [1], [params.shape.topK]);
    const values = g.name("gate_topk_values");
    const experts = names.experts ?? g.name("gate_experts");
    g.node("TopK", [logits, k], [values, experts], { axis: -1, largest: 1, sorted: 1 });
    const soft = g.op("Softmax", [values], "gate_topk_softmax", { axis: -1 });
    const shape = g.op("Shape", [logits], "gate_shape");
    const zeros = g.op("ConstantOfShape", [shape], "gate_zeros", { value: scalarTensor(0) });
    const weights = names.weights ?? g.name("gate_weights");
    g.node("ScatterElements", [zeros, experts, soft], [weights], { axis: 1 });
    return { weights, experts };
  }

  /** Expert e's subgraph: returns the name of its logits [N, C]. */
  expert(e: number, out?: string): string {
    const ex = this.model.params.experts[e]!;
    const q = this.model.quantized.experts[e]!;
    const g = this.g;
    const p = `expert${e}`;
    const hidden = this.dense(`${p}_fc1`, this.pixels(), ex.w1, q.w1, ex.b1);
    let h: LayerInput;
    if (this.variant === "int8") {
      // QuantizeLinear to uint8 with zero-point 0 saturates negatives to 0: it is the ReLU as well.
      const scale = g.float(`${p}_hidden_scale`, [], new Float32Array([q.hiddenScale]));
      const zero = g.uint8(`${p}_hidden_zero_point`, [], new Uint8Array([0]));
      const hq = g.op("QuantizeLinear", [hidden, scale, zero], `${p}_hidden_uint8`);
      h = { kind: "uint8", name: hq, scale: Math.fround(q.hiddenScale) };
    } else {
      h = { kind: "float", name: g.op("Relu", [hidden], `${p}_relu`) };
    }
    return this.dense(`${p}_fc2`, h, ex.w2, q.w2, ex.b2, out);
  }
}

function io(model: MoeModel) {
  const { inputs: D, experts: E, classes: C, topK: K } = model.params.shape;
  const pixels: ValueInfo = { name: "pixels", type: "float", shape: ["N", D] };
  return {
    pixels,
    logits: { name: "logits", type: "float", shape: ["N", C] } as ValueInfo,
    weights: { name: "weights", type: "float", shape: ["N", E] } as ValueInfo,
    experts: { name: "experts", type: "int64", shape: ["N", K] } as ValueInfo,
  };
}

export interface BuiltGraph {
  readonly bytes: Uint8Array;
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
}

function built(bytes: Uint8Array, inputs: ValueInfo[], outputs: ValueInfo[]): BuiltGraph {
  const info = (v: ValueInfo): TensorInfo => ({
    name: v.name,
    type: v.type === "int64" ? "int64" : "float32",
    shape: [...v.shape],
  });
  return { bytes, inputs: inputs.map(info), outputs: outputs.map(info) };
}

export function gateGraph(model: MoeModel, variant: ModelVariant): BuiltGraph {
  const m = new MoeGraph(model, variant);
  const v = io(model);
  m.g.reserve("weights");
  m.g.reserve("experts");
  m.gate({ weights: "weights", experts: "experts" });
  const doc = `Fashion-MNIST MoE gate (${variant}): top-${model.params.shape.topK} of ${model.params.shape.experts}`;
  return built(
    m.g.build(`gate_${variant}`, [v.pixels], [v.weights, v.experts], doc),
    [v.pixels],
    [v.weights, v.experts],
  );
}

export function expertGraph(model: MoeModel, variant: ModelVariant, e: number): BuiltGraph {
  const m = new MoeGraph(model, variant);
  const v = io(model);
  m.g.reserve("logits");
  m.expert(e, "logits");
  const doc = `Fashion-MNIST MoE expert ${e} (${variant})`;
  return built(m.g.build(`expert_${e}_${variant}`, [v.pixels], [v.logits], doc), [v.pixels], [v.logits]);
}

export function moeGraph(model: MoeModel, variant: ModelVariant): BuiltGraph {
  const m = new MoeGraph(model, variant);
  const g = m.g;
  const v = io(model);
  g.reserve("logits");
  const { weights } = m.gate();
  const axis1 = g.int64("axis_1", [1], [1]);
  const axis2 = g.int64("axis_2", [1], [2]);
  const stacked: string[] = [];
  for (let e = 0; e < model.params.shape.experts; e++) {
    stacked.push(g.op("Unsqueeze", [m.expert(e), axis1], `expert${e}_unsqueezed`));
  }
  const all = g.op("Concat", stacked, "experts_stacked", { axis: 1 });
  const w3 = g.op("Unsqueeze", [weights, axis2], "gate_weights_unsqueezed");
  const weighted = g.op("Mul", [all, w3], "experts_weighted");
  g.node("ReduceSum", [weighted, axis1], ["logits"], { keepdims: 0 });
  const doc = `Fashion-MNIST mixture of ${model.params.shape.experts} experts, top-${model.params.shape.topK} (${variant})`;
  return built(g.build(`moe_${variant}`, [v.pixels], [v.logits], doc), [v.pixels], [v.logits]);
}
