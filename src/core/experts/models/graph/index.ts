// The ONNX graph budget a host checks before loading a model that is not the site's own (graph-budget.ts).
export { checkGraphBudget, DEFAULT_GRAPH_BUDGET, type GraphBudget } from "./graph-budget.ts";
