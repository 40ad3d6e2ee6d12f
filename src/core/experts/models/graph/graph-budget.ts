import { ExpertError } from "../runner.ts";
import { readOnnxModel, TooManyNodes, type OnnxModel } from "./onnx-model.ts";
import { ProtoError } from "./proto-reader.ts";
import { inferNode, REFUSED_OPS } from "./shape-ops.ts";
import { count, elementBytes, Unbounded, type Val } from "./shape-values.ts";

/**
 * What a host checks before it lets onnxruntime see a model that is not the site's own: the graph is read
 * (onnx-model.ts, no runtime involved) and every tensor's size inferred (shape-ops.ts) from the initializers,
 * constants and shape arithmetic, with the input's dynamic dims set to the most a request may carry. A
 * graph over the budget (nodes, one tensor's bytes, initializers + the peak of tensors alive at once), or
 * one that cannot be bounded (control flow, local functions, external data, an unknown operator, a shape
 * computed from data), is refused with ExpertError("model_over_budget") naming why: a 370-byte model must
 * not make a host allocate gigabytes. When only the largest batches break the budget, the model is accepted
 * with the rows per request that fit (`maxRows`).
 *
 * The sizes are upper bounds where the shapes are constant or follow the batch through monotone shape
 * arithmetic (what exported models do); ORT reuses buffers, so the real peak is lower.
 */
export interface GraphBudget {
  readonly maxNodes: number;
  /** Bytes of the largest tensor. */
  readonly maxTensorBytes: number;
  /** Initializers plus the peak of intermediate tensors alive at once. */
  readonly maxTotalBytes: number;
  /** Rows one request may carry (the input's batch dim at most this). */
  readonly maxRows: number;
  /** Values one request's input may carry (bounds a symbolic non-batch dim). */
  readonly maxInputValues: number;
}

export const DEFAULT_GRAPH_BUDGET: GraphBudget = {
  maxNodes: 5_000,
  maxTensorBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxRows: 4096,
  maxInputValues: 4 * 1024 * 1024,
};

export interface GraphEstimate {
  readonly nodes: number;
  readonly initializerBytes: number;
  /** At `maxRows`: initializers + peak of live intermediates. */
  readonly totalBytes: number;
  readonly largestTensor: { readonly name: string; readonly bytes: number };
  /** Rows per request within the budget (≤ budget.maxRows). */
  readonly maxRows: number;
}

export function checkGraphBudget(
  bytes: Uint8Array,
  budget: GraphBudget = DEFAULT_GRAPH_BUDGET,
): GraphEstimate {
  let model: OnnxModel;
  try {
    model = readOnnxModel(bytes, { maxNodes: budget.maxNodes });
  } catch (error) {
    if (error instanceof TooManyNodes) refuse(`the graph has more than ${budget.maxNodes} nodes`);
    if (error instanceof ProtoError)
      throw new ExpertError("corrupt_model", `not an ONNX model: ${error.message}`);
    throw error;
  }
  if (model.localFunctions > 0) refuse("the model defines local functions");
  if (model.sparseInitializers > 0) refuse("the model has sparse initializers");
  for (const node of model.nodes) {
    if (REFUSED_OPS.has(node.opType) || [...node.attributes.values()].some((a) => a.hasGraph)) {
      refuse(`operator ${node.opType} (control flow or a subgraph) cannot be bounded`);
    }
  }
  let initializerBytes = 0;
  for (const t of model.initializers) {
    if (t.external) refuse(`initializer ${t.name.slice(0, 40)} points to external data`);
    initializerBytes += count(t.dims) * elementBytes(t.dataType);
  }
  const at = (rows: number) => {
    try {
      return { ok: true as const, ...evaluate(model, rows, budget, initializerBytes) };
    } catch (error) {
      if (error instanceof Unbounded) refuse(error.message);
      throw error;
    }
  };
  const fits = (e: ReturnType<typeof at>) =>
    e.largest.bytes <= budget.maxTensorBytes && e.total <= budget.maxTotalBytes;
  let rows = budget.maxRows;
  let estimate = at(rows);
  if (!fits(estimate)) {
    const one = at(1);
    if (!fits(one)) {
      const e = one.largest.bytes > budget.maxTensorBytes ? one.largest : null;
      refuse(
        e
          ? `tensor ${e.name.slice(0, 40)} would take ${mib(e.bytes)} (budget ${mib(budget.maxTensorBytes)})`
          : `the model would need ${mib(one.total)} (budget ${mib(budget.maxTotalBytes)})`,
      );
    }
    // The largest batch that fits: sizes grow with rows, so bisect.
    let [lo, hi] = [1, rows];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits(at(mid))) lo = mid;
      else hi = mid;
    }
    rows = lo;
    estimate = at(rows);
  }
  return {
    nodes: model.nodes.length,
    initializerBytes,
    totalBytes: estimate.total,
    largestTensor: estimate.largest,
    maxRows: rows,
  };
}

function evaluate(model: OnnxModel, rows: number, budget: GraphBudget, initializerBytes: number) {
  const opset = model.opsets.get("") ?? 13;
  const values = new Map<string, Val>();
  for (const t of model.initializers) {
    values.set(t.name, { shape: t.dims, size: elementBytes(t.dataType), ints: t.ints });
  }
  let largest = { name: "", bytes: initializerBytes > 0 ? 0 : 0 };
  for (const input of model.inputs) {
    if (values.has(input.name)) continue;
    if (!input.shape) throw new Unbounded(`input ${input.name.slice(0, 40)} has no shape`);
    const dims = input.shape.map((d, i) => (typeof d === "number" && d > 0 ? d : i === 0 ? rows : -1));
    const fixed = dims.filter((d) => d > 0).reduce((a, b) => a * b, 1);
    const open = dims.filter((d) => d < 0).length;
    const fill = open > 0 ? Math.max(1, Math.floor((budget.maxInputValues / fixed) ** (1 / open))) : 1;
    values.set(input.name, {
      shape: dims.map((d) => (d < 0 ? fill : d)),
      size: elementBytes(input.elemType),
      ints: null,
    });
  }
  // Last use of each tensor, to know what is alive at once.
  const lastUse = new Map<string, number>();
  model.nodes.forEach((node, i) => node.inputs.forEach((name) => lastUse.set(name, i)));
  for (const o of model.outputs) lastUse.set(o.name, Infinity);
  const activation = new Map<string, number>();
  let live = 0;
  let peak = 0;
  model.nodes.forEach((node, i) => {
    const inputs = node.inputs.map((name) => {
      if (name === "") return undefined;
      const v = values.get(name);
      if (!v)
        throw new Unbounded(`${node.opType} reads ${name.slice(0, 40)}, which nothing produced before it`);
      return v;
    });
    const outs = inferNode(node, inputs, opset);
    node.outputs.forEach((name, k) => {
      const v = outs[k];
      if (!name || !v) return;
      const bytes = count(v.shape) * v.size;
      if (!Number.isFinite(bytes)) throw new Unbounded(`tensor ${name.slice(0, 40)} has no finite size`);
      values.set(name, v);
      if (bytes > largest.bytes) largest = { name, bytes };
      activation.set(name, (activation.get(name) ?? 0) + bytes);
      live += bytes;
    });
    peak = Math.max(peak, live);
    for (const name of new Set(node.inputs)) {
      if (lastUse.get(name) === i && activation.has(name)) {
        live -= activation.get(name)!;
        activation.delete(name);
      }
    }
  });
  return { largest, total: initializerBytes + peak };
}

function refuse(why: string): never {
  throw new ExpertError("model_over_budget", `refused before loading: ${why}`);
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
