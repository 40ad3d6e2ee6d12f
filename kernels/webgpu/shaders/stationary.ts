import {
  CSR_BINDINGS,
  PARAMS_AND_STATE,
  prelude,
  reduceAndStore,
  reductionVars,
  ROW_ENTRY,
  rowLoop,
  rowDotFn,
  SCALAR_WG,
  scalarEntry,
  scalarReduce,
  STATE_ONLY,
} from "./common.ts";
import type { StateLayout } from "./layout.ts";

/**
 * Stationary iterations. Neither needs a reduction per iteration: they cannot break down, so the GPU just
 * keeps sweeping and the residual is reduced only at readbacks (Jacobi gets it for free inside its sweep).
 */
export const STATIONARY_SLOT_RR = 0;
export const STATIONARY_SLOTS = 1;

/** One Jacobi sweep of a row block: xNew = xOld + D⁻¹(b − A xOld); partial ‖b − A xOld‖². */
export function jacobiSweepShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}${CSR_BINDINGS}
@group(0) @binding(5) var<storage, read> xold: array<f32>;
@group(0) @binding(6) var<storage, read_write> xnew: array<f32>;
@group(0) @binding(7) var<storage, read> b: array<f32>;
@group(0) @binding(8) var<storage, read> dinv: array<f32>;
${rowDotFn("xold")}
${reductionVars(1)}
${ROW_ENTRY}
  var d = 0.0;
${rowLoop(
  "true",
  `
      let row = params.rowStart + li;
      let res = b[row] - rowDot(li);
      xnew[row] = xold[row] + dinv[row] * res;
      d = d + res * res;
    `,
)}
  ${reduceAndStore(["d"], [STATIONARY_SLOT_RR], "params.wgBase + wg")}
}
`;
}

/**
 * One color of a multicolor Gauss–Seidel sweep in one row block: rows of a color share no entry, so they
 * update in place in parallel. Params reuse: rows = rows of this (block, color), wgBase = offset in rowList.
 */
export function gaussSeidelColorShader(layout: StateLayout): string {
  return `${prelude(layout)}
@group(0) @binding(0) var<uniform> params: Params;
${CSR_BINDINGS}
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;
@group(0) @binding(7) var<storage, read> dinv: array<f32>;
@group(0) @binding(8) var<storage, read> rowList: array<u32>;
${rowDotFn("x")}
${ROW_ENTRY}
${rowLoop(
  "true",
  `
      let row = rowList[params.wgBase + li];
      let res = b[row] - rowDot(row - params.rowStart);
      x[row] = x[row] + dinv[row] * res;
    `,
)}
}
`;
}

/** Partial ‖b − A x‖² of a row block (Gauss–Seidel's residual at readbacks). */
export function residualShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}${CSR_BINDINGS}
@group(0) @binding(5) var<storage, read> x: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;
${rowDotFn("x")}
${reductionVars(1)}
${ROW_ENTRY}
  var d = 0.0;
${rowLoop(
  "true",
  `
      let row = params.rowStart + li;
      let res = b[row] - rowDot(li);
      d = d + res * res;
    `,
)}
  ${reduceAndStore(["d"], [STATIONARY_SLOT_RR], "params.wgBase + wg")}
}
`;
}

/** Reduces the residual partials into the header's RR (run once per readback). */
export function stationaryCheckShader(layout: StateLayout): string {
  return `${prelude(layout)}${STATE_ONLY}
${reductionVars(1, SCALAR_WG)}
${scalarEntry("main")}
  ${scalarReduce([{ slot: STATIONARY_SLOT_RR, count: "NBLK" }])}
  state.f[H_RR] = sum0;
}
`;
}
