/** Orderings of the unknowns: fill-reducing for the direct LU (AMD, RCM), a zero-free diagonal, colors. */
export { greedyColoring } from "./coloring.ts";
export { DIRECT_ORDERINGS } from "./lu-ordering.ts";
