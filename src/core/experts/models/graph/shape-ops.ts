import type { OnnxNode } from "./onnx-model.ts";
import {
  Unbounded,
  elementBytes,
  SMALL,
  count,
  val,
  ints,
  attrInt,
  attrInts,
  axis,
  broadcast,
  elementwiseInts,
  windowed,
  type Val,
} from "./shape-values.ts";

/**
 * Output sizes of ONNX operators from their inputs' sizes, for the graph budget (graph-budget.ts). A tensor
 * is seen as an upper bound of its shape (each dim at most this), its element size, and, for the small
 * integer tensors that shape arithmetic passes around (Shape → Gather → Concat → Reshape), its values.
 * Operators not known here make a graph unbounded (refused): an allow-list, so an operator that can grow a
 * tensor is never let through by omission.
 */
const SAME_SHAPE = new Set([
  "Abs",
  "Neg",
  "Exp",
  "Log",
  "Sqrt",
  "Relu",
  "Sigmoid",
  "Tanh",
  "Erf",
  "Floor",
  "Ceil",
  "Round",
  "Reciprocal",
  "Sign",
  "Sin",
  "Cos",
  "Tan",
  "Asin",
  "Acos",
  "Atan",
  "Sinh",
  "Cosh",
  "Asinh",
  "Acosh",
  "Atanh",
  "Not",
  "Identity",
  "LeakyRelu",
  "Elu",
  "Selu",
  "Celu",
  "Gelu",
  "HardSigmoid",
  "HardSwish",
  "Softplus",
  "Softsign",
  "Clip",
  "Softmax",
  "LogSoftmax",
  "Hardmax",
  "IsNaN",
  "IsInf",
  "LpNormalization",
  "BatchNormalization",
  "InstanceNormalization",
  "LayerNormalization",
  "GroupNormalization",
  "Mish",
  "ThresholdedRelu",
  "Shrink",
  "CumSum",
  "LRN",
  "MeanVarianceNormalization",
  "Trilu",
  "Dropout",
  "EyeLike",
  "RandomNormalLike",
  "RandomUniformLike",
  "Bernoulli",
  "ScatterND",
  "ScatterElements",
  "Scatter",
  "ReverseSequence",
  "BitwiseNot",
]);
const BROADCAST = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Pow",
  "Mod",
  "Max",
  "Min",
  "Sum",
  "Mean",
  "PRelu",
  "Where",
  "BitShift",
  "BitwiseAnd",
  "BitwiseOr",
  "BitwiseXor",
]);
const COMPARE = new Set(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]);
const REDUCE = new Set([
  "ReduceSum",
  "ReduceMean",
  "ReduceMax",
  "ReduceMin",
  "ReduceProd",
  "ReduceL1",
  "ReduceL2",
  "ReduceLogSum",
  "ReduceLogSumExp",
  "ReduceSumSquare",
  "ArgMax",
  "ArgMin",
]);
/** Operators whose attributes may hold graphs or whose cost cannot be bounded from shapes: refused. */
export const REFUSED_OPS = new Set(["If", "Loop", "Scan", "SequenceMap", "LSTM", "GRU", "RNN", "Einsum"]);

/** The outputs of `n` (one Val per output name; an empty name is an omitted optional output). */
export function inferNode(n: OnnxNode, inputs: readonly (Val | undefined)[], opset: number): Val[] {
  const op = n.opType;
  const x = inputs[0];
  const need = (v: Val | undefined, what = "input"): Val => {
    if (!v) throw new Unbounded(`${op}: missing ${what}`);
    return v;
  };
  const same = (v: Val, size = v.size): Val[] => n.outputs.map(() => val(v.shape, size));
  if (n.domain !== "") throw new Unbounded(`operator ${n.domain}.${op} is not known here`);
  if (SAME_SHAPE.has(op)) {
    const v = need(x);
    if (op === "Identity") return [v];
    if (op === "LayerNormalization" || op === "Dropout")
      return n.outputs.map((_, i) => val(v.shape, i === 0 ? v.size : 4));
    return same(v);
  }
  if (BROADCAST.has(op)) {
    const vals = inputs.filter((v): v is Val => v !== undefined);
    if (vals.length === 0) throw new Unbounded(`${op} without inputs`);
    const shape = broadcast(vals);
    const f: Record<string, (a: number, b: number) => number> = {
      Add: (a, b) => a + b,
      Sub: (a, b) => a - b,
      Mul: (a, b) => a * b,
      Div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
      Max: Math.max,
      Min: Math.min,
    };
    const values = f[op] ? elementwiseInts(vals, f[op]) : null;
    return [val(shape, Math.max(...vals.map((v) => v.size)), values)];
  }
  if (COMPARE.has(op)) return [val(broadcast(inputs.filter((v): v is Val => !!v)), 1)];
  switch (op) {
    case "Cast":
    case "CastLike": {
      const v = need(x);
      const size = op === "Cast" ? elementBytes(attrInt(n, "to", 1)) : need(inputs[1]).size;
      return [val(v.shape, size, v.ints)];
    }
    case "Constant": {
      const a = n.attributes.get("value");
      if (a?.t) return [val(a.t.dims, elementBytes(a.t.dataType), a.t.ints)];
      const vi = n.attributes.get("value_int");
      if (vi?.i != null) return [val([], 8, [vi.i])];
      const vis = n.attributes.get("value_ints");
      if (vis) return [val([vis.ints.length], 8, vis.ints)];
      const vf = n.attributes.get("value_float");
      if (vf) return [val([], 4)];
      const vfs = n.attributes.get("value_floats");
      if (vfs) return [val([vfs.floats.length], 4)];
      throw new Unbounded("a Constant of a kind not known here");
    }
    case "ConstantOfShape": {
      const dims = ints(x, "ConstantOfShape's shape");
      const t = n.attributes.get("value")?.t;
      const size = t ? elementBytes(t.dataType) : 4;
      const fill = t?.ints?.[0] ?? 0;
      return [
        val(
          dims,
          size,
          count(dims) <= SMALL && size === 8 ? (dims.length ? Array(count(dims)).fill(fill) : [fill]) : null,
        ),
      ];
    }
    case "Shape": {
      const v = need(x);
      const r = v.shape.length;
      const start = Math.max(0, Math.min(r, ((s) => (s < 0 ? s + r : s))(attrInt(n, "start", 0))));
      const end = Math.max(0, Math.min(r, ((e) => (e < 0 ? e + r : e))(attrInt(n, "end", r))));
      const dims = v.shape.slice(start, Math.max(start, end));
      return [val([dims.length], 8, dims)];
    }
    case "Size":
      return [val([], 8, [count(need(x).shape)])];
    case "Reshape": {
      const v = need(x);
      const target = ints(inputs[1], "Reshape's shape");
      const allowZero = attrInt(n, "allowzero", 0) === 1;
      const fixed = target.map((d, i) => (d === 0 && !allowZero ? (v.shape[i] ?? 1) : d));
      const known = fixed.filter((d) => d >= 0).reduce((a, b) => a * Math.max(b, 1), 1);
      const shape = fixed.map((d) => (d < 0 ? Math.ceil(count(v.shape) / known) : d));
      if (count(shape) > count(v.shape)) throw new Unbounded("Reshape to more elements than it was given");
      return [val(shape, v.size, v.ints)];
    }
    case "Flatten": {
      const v = need(x);
      const a = attrInt(n, "axis", 1);
      const k = a < 0 ? a + v.shape.length : a;
      return [val([count(v.shape.slice(0, k)), count(v.shape.slice(k))], v.size)];
    }
    case "Squeeze":
    case "Unsqueeze": {
      const v = need(x);
      const axes = opset >= 13 && inputs[1] ? ints(inputs[1], `${op}'s axes`) : (attrInts(n, "axes") ?? []);
      if (op === "Squeeze") {
        const rank = v.shape.length;
        const drop = new Set(
          axes.length > 0 ? axes.map((a) => axis(a, rank)) : v.shape.flatMap((d, i) => (d === 1 ? [i] : [])),
        );
        return [
          val(
            v.shape.filter((_, i) => !drop.has(i)),
            v.size,
            v.ints,
          ),
        ];
      }
      const rank = v.shape.length + axes.length;
      const at = new Set(axes.map((a) => axis(a, rank)));
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(at.has(i) ? 1 : (v.shape[j++] ?? 1));
      return [val(shape, v.size, v.ints)];
    }
    case "Transpose": {
      const v = need(x);
      const perm = attrInts(n, "perm") ?? v.shape.map((_, i) => v.shape.length - 1 - i);
      return [
        val(
          perm.map((p) => v.shape[p] ?? 1),
          v.size,
        ),
      ];
    }
    case "Expand": {
      const v = need(x);
      const dims = ints(inputs[1], "Expand's shape");
      return [val(broadcast([v, val(dims, 1)]), v.size)];
    }
    case "Tile": {
      const v = need(x);
      const reps = ints(inputs[1], "Tile's repeats");
      return [
        val(
          v.shape.map((d, i) => d * Math.max(0, reps[i] ?? 1)),
          v.size,
        ),
      ];
    }
    case "Concat": {
      const vals = inputs.filter((v): v is Val => v !== undefined);
      const first = need(vals[0]);
      const k = axis(attrInt(n, "axis", 0), first.shape.length);
      const shape = [...first.shape];
      shape[k] = vals.reduce((s, v) => s + (v.shape[k] ?? 0), 0);
      const all = vals.every((v) => v.ints) ? vals.flatMap((v) => v.ints!) : null;
      return [val(shape, first.size, first.shape.length === 1 ? all : null)];
    }
    case "Split": {
      const v = need(x);
      const k = axis(attrInt(n, "axis", 0), v.shape.length);
      const sizes = inputs[1]?.ints ?? attrInts(n, "split");
      return n.outputs.map((_, i) => {
        const shape = [...v.shape];
        shape[k] = sizes && sizes.length > 0 ? (sizes[i] ?? 0) : Math.ceil(v.shape[k]! / n.outputs.length);
        return val(shape, v.size);
      });
    }
    case "Slice": {
      const v = need(x);
      if (!inputs[1]?.ints || !inputs[2]?.ints) return [val(v.shape, v.size)]; // at most the input
      const starts = inputs[1].ints;
      const ends = inputs[2].ints;
      const axes = inputs[3]?.ints ?? starts.map((_, i) => i);
      const steps = inputs[4]?.ints ?? starts.map(() => 1);
      const shape = [...v.shape];
      let values = v.ints ? [...v.ints] : null;
      axes.forEach((a, i) => {
        const k = axis(a, v.shape.length);
        const d = v.shape[k]!;
        const step = steps[i] ?? 1;
        if (step === 0) throw new Unbounded("Slice with step 0");
        const clamp = (p: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, p < 0 ? p + d : p));
        const s = step > 0 ? clamp(starts[i]!, 0, d) : clamp(starts[i]!, -1, d - 1);
        const e = step > 0 ? clamp(ends[i]!, 0, d) : clamp(ends[i]!, -1, d - 1);
        shape[k] = Math.max(0, Math.ceil((e - s) / step));
        if (values && v.shape.length === 1) {
          const picked: number[] = [];
          for (let p = s; step > 0 ? p < e : p > e; p += step) picked.push(values[p]!);
          values = picked;
        } else values = null;
      });
      return [val(shape, v.size, values)];
    }
    case "Gather": {
      const data = need(x);
      const idx = need(inputs[1], "indices");
      const k = axis(attrInt(n, "axis", 0), data.shape.length);
      const shape = [...data.shape.slice(0, k), ...idx.shape, ...data.shape.slice(k + 1)];
      let values: number[] | null = null;
      if (data.ints && idx.ints && data.shape.length === 1) {
        values = idx.ints.map((i) => data.ints![i < 0 ? i + data.ints!.length : i] ?? 0);
      }
      return [val(shape, data.size, values)];
    }
    case "GatherElements":
      return [val(need(inputs[1], "indices").shape, need(x).size)];
    case "GatherND": {
      const data = need(x);
      const idx = need(inputs[1], "indices");
      const b = attrInt(n, "batch_dims", 0);
      const last = idx.shape[idx.shape.length - 1] ?? 0;
      return [val([...idx.shape.slice(0, -1), ...data.shape.slice(b + last)], data.size)];
    }
    case "MatMul":
    case "MatMulInteger":
    case "QLinearMatMul": {
      const a = need(x);
      const b = need(op === "QLinearMatMul" ? inputs[3] : inputs[1]);
      const size = op === "MatMulInteger" ? 4 : op === "QLinearMatMul" ? 1 : a.size;
      const as = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
      const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
      const batch = broadcast([val(as.slice(0, -2), 1), val(bs.slice(0, -2), 1)]);
      const shape = [...batch, as[as.length - 2]!, bs[bs.length - 1]!];
      if (a.shape.length === 1) shape.splice(shape.length - 2, 1);
      if (b.shape.length === 1) shape.pop();
      return [val(shape, size)];
    }
    case "Gemm": {
      const a = need(x);
      const b = need(inputs[1]);
      const m = attrInt(n, "transA", 0) ? a.shape[1] : a.shape[0];
      const nn = attrInt(n, "transB", 0) ? b.shape[0] : b.shape[1];
      return [val([m ?? 1, nn ?? 1], a.size)];
    }
    case "Conv":
    case "ConvInteger":
    case "QLinearConv": {
      const w = need(op === "QLinearConv" ? inputs[3] : inputs[1], "weights");
      const size = op === "ConvInteger" ? 4 : op === "QLinearConv" ? 1 : need(x).size;
      return [val(windowed(n, need(x), w.shape[0] ?? 1), size)];
    }
    case "ConvTranspose": {
      const v = need(x);
      const w = need(inputs[1], "weights");
      const group = attrInt(n, "group", 1);
      const outShape = attrInts(n, "output_shape");
      const strides = attrInts(n, "strides") ?? [];
      const dil = attrInts(n, "dilations") ?? [];
      const outPad = attrInts(n, "output_padding") ?? [];
      const spatial = v.shape.slice(2).map((d, i) => {
        if (outShape && outShape[i] !== undefined) return outShape[i]!;
        const kernel = w.shape[i + 2] ?? 1;
        return (strides[i] ?? 1) * Math.max(0, d - 1) + (outPad[i] ?? 0) + ((kernel - 1) * (dil[i] ?? 1) + 1);
      });
      return [val([v.shape[0] ?? 1, (w.shape[1] ?? 1) * group, ...spatial], v.size)];
    }
    case "MaxPool":
    case "AveragePool":
    case "LpPool": {
      const v = need(x);
      const out = windowed(n, v, v.shape[1] ?? 1);
      return n.outputs.map((_, i) => val(out, i === 0 ? v.size : 8));
    }
    case "GlobalAveragePool":
    case "GlobalMaxPool":
    case "GlobalLpPool": {
      const v = need(x);
      return [
        val(
          v.shape.map((d, i) => (i < 2 ? d : 1)),
          v.size,
        ),
      ];
    }
    case "DepthToSpace":
    case "SpaceToDepth": {
      const v = need(x);
      const b = attrInt(n, "blocksize", 1);
      const [nb, c, h, w] = [v.shape[0] ?? 1, v.shape[1] ?? 1, v.shape[2] ?? 1, v.shape[3] ?? 1];
      return [
        val(
          op === "DepthToSpace"
            ? [nb, Math.ceil(c / (b * b)), h * b, w * b]
            : [nb, c * b * b, Math.ceil(h / b), Math.ceil(w / b)],
          v.size,
        ),
      ];
    }
    case "TopK": {
      const v = need(x);
      const k = axis(attrInt(n, "axis", -1), v.shape.length);
      const kk = opset >= 10 ? ints(inputs[1], "TopK's k")[0]! : attrInt(n, "k", 1);
      const shape = [...v.shape];
      shape[k] = Math.min(shape[k]!, Math.max(0, kk));
      return [val(shape, v.size), val(shape, 8)];
    }
    case "Pad": {
      const v = need(x);
      const pads = opset >= 11 ? ints(inputs[1], "Pad's pads") : (attrInts(n, "pads") ?? []);
      const r = v.shape.length;
      const axesIn = inputs[3]?.ints;
      const axes = axesIn ? axesIn.map((a) => axis(a, r)) : v.shape.map((_, i) => i);
      const shape = [...v.shape];
      axes.forEach((k, i) => {
        shape[k] = Math.max(0, shape[k]! + (pads[i] ?? 0) + (pads[i + axes.length] ?? 0));
      });
      return [val(shape, v.size)];
    }
    case "Resize":
    case "Upsample": {
      const v = need(x);
      const sizes = op === "Resize" ? inputs[3]?.ints : null;
      if (sizes && sizes.length === v.shape.length) return [val(sizes, v.size)];
      const scalesVal = op === "Resize" ? inputs[2] : inputs[1];
      const scales = n.attributes.get("scales")?.floats ?? scalesVal?.ints ?? null;
      if (!scales || scales.length !== v.shape.length) throw new Unbounded(`${op}'s scales are not constant`);
      return [
        val(
          v.shape.map((d, i) => Math.floor(d * scales[i]!)),
          v.size,
        ),
      ];
    }
    case "Range": {
      const [s, l, d] = [
        ints(x, "Range's start")[0]!,
        ints(inputs[1], "Range's limit")[0]!,
        ints(inputs[2], "Range's delta")[0]!,
      ];
      if (d === 0) throw new Unbounded("Range with delta 0");
      const len = Math.max(0, Math.ceil((l - s) / d));
      return [
        val([len], need(x).size, len <= SMALL ? Array.from({ length: len }, (_, i) => s + i * d) : null),
      ];
    }
    case "OneHot": {
      const idx = need(x);
      const depth = ints(inputs[1], "OneHot's depth")[0]!;
      const r = idx.shape.length + 1;
      const k = axis(attrInt(n, "axis", -1), r);
      const shape = [...idx.shape];
      shape.splice(k, 0, Math.max(0, depth));
      return [val(shape, need(inputs[2], "values").size)];
    }
    case "NonZero": {
      const v = need(x);
      return [val([v.shape.length, count(v.shape)], 8)];
    }
    case "Compress":
    case "Unique": {
      const v = need(x);
      return n.outputs.map((_, i) => val([count(v.shape)], i === 0 ? v.size : 8));
    }
    case "DynamicQuantizeLinear": {
      const v = need(x);
      return [val(v.shape, 1), val([], 4), val([], 1)];
    }
    case "QuantizeLinear":
      return [val(need(x).shape, 1)];
    case "DequantizeLinear":
      return [val(need(x).shape, 4)];
    case "RandomNormal":
    case "RandomUniform":
      return [val(attrInts(n, "shape") ?? [], elementBytes(attrInt(n, "dtype", 1)))];
    case "Multinomial": {
      const v = need(x);
      return [val([v.shape[0] ?? 1, attrInt(n, "sample_size", 1)], 4)];
    }
  }
  if (REDUCE.has(op)) {
    const v = need(x);
    const keep = attrInt(n, "keepdims", 1) === 1;
    const r = v.shape.length;
    let axes: readonly number[];
    if (op === "ArgMax" || op === "ArgMin") axes = [attrInt(n, "axis", 0)];
    else if (inputs[1]) axes = ints(inputs[1], `${op}'s axes`);
    else axes = attrInts(n, "axes") ?? [];
    const noop = attrInt(n, "noop_with_empty_axes", 0) === 1;
    const set = new Set(axes.length > 0 ? axes.map((a) => axis(a, r)) : noop ? [] : v.shape.map((_, i) => i));
    const shape = keep ? v.shape.map((d, i) => (set.has(i) ? 1 : d)) : v.shape.filter((_, i) => !set.has(i));
    const values =
      op === "ReduceProd" && v.ints && r === 1 && !keep ? [v.ints.reduce((a, b) => a * b, 1)] : null;
    return [val(shape, op === "ArgMax" || op === "ArgMin" ? 8 : v.size, values)];
  }
  throw new Unbounded(`operator ${op} is not known here`);
}
