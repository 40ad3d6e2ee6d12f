/** Solve in this tab: the local solve's store (a Comlink worker behind it) and live updates of A and b. */
export { createLocalSolveStore } from "./store.ts";
export type { ChartMarker, LocalSolveStore } from "./store.ts";
export { stageSeries } from "./chart.ts";
