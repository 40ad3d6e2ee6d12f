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
  setStatus,
  STATE_ONLY,
} from "./common.ts";
import type { StateLayout } from "./layout.ts";

/**
 * Jacobi-preconditioned CG in the Chronopoulos–Gear arrangement: both dots of an iteration (γ = r·u and
 * δ = (A u)·u) are produced by the two row-parallel passes, so one tiny scalar kernel per iteration computes
 * α and β on the GPU. Three dispatches per iteration, no scalar ever goes to the CPU:
 *
 *   update:  p = u + βp;  s = w + βs;  x += αp;  r −= αs;  u = D⁻¹r;   partials γ = r·u, r·r
 *   spmv:    w = A u;                                                  partial  δ = w·u   (one per row block)
 *   scalar:  β = γ/γ_old;  α = γ / (δ − βγ/α_old);  stop when r·r <= tol²·r₀·r₀
 *
 * (s tracks A p without a second SpMV: s = A u + β A p_old = w + β s.) The first pass after a reset runs
 * with α = β = 0, which only computes u = D⁻¹r and its dots: the scalar kernel then starts the iteration.
 */
export const CG_SLOT = { GAMMA: 0, RR: 1, DELTA: 2 } as const;
export const CG_SLOTS = 3;

export function cgUpdateShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> r: array<f32>;
@group(0) @binding(4) var<storage, read_write> p: array<f32>;
@group(0) @binding(5) var<storage, read_write> s: array<f32>;
@group(0) @binding(6) var<storage, read_write> u: array<f32>;
@group(0) @binding(7) var<storage, read> w: array<f32>;
@group(0) @binding(8) var<storage, read> dinv: array<f32>;
${reductionVars(2)}
${ROW_ENTRY}
  var g = 0.0;
  var q = 0.0;
  let run = running();
${rowLoop(
  "run",
  `
      let alpha = state.f[H_ALPHA];
      let beta = state.f[H_BETA];
      let pi = u[li] + beta * p[li];
      let si = w[li] + beta * s[li];
      p[li] = pi;
      s[li] = si;
      x[li] = x[li] + alpha * pi;
      let ri = r[li] - alpha * si;
      r[li] = ri;
      let ui = dinv[li] * ri;
      u[li] = ui;
      g = g + ri * ui;
      q = q + ri * ri;
    `,
)}
  ${reduceAndStore(["g", "q"], [CG_SLOT.GAMMA, CG_SLOT.RR], "wg")}
}
`;
}

export function cgSpmvShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}${CSR_BINDINGS}
@group(0) @binding(5) var<storage, read> xin: array<f32>;
@group(0) @binding(6) var<storage, read_write> yout: array<f32>;
${rowDotFn("xin")}
${reductionVars(1)}
${ROW_ENTRY}
  var d = 0.0;
  let run = running();
${rowLoop(
  "run",
  `
      let row = params.rowStart + li;
      let yv = rowDot(li);
      yout[row] = yv;
      d = d + yv * xin[row];
    `,
)}
  ${reduceAndStore(["d"], [CG_SLOT.DELTA], "params.wgBase + wg")}
}
`;
}

export function cgScalarShader(layout: StateLayout): string {
  return `${prelude(layout)}${STATE_ONLY}
${reductionVars(3, SCALAR_WG)}
${scalarEntry("main")}
  ${scalarReduce([
    { slot: CG_SLOT.GAMMA, count: "NFULL" },
    { slot: CG_SLOT.RR, count: "NFULL" },
    { slot: CG_SLOT.DELTA, count: "NBLK" },
  ])}
  if (!running()) { return; }
  let gamma = sum0;
  let rr = sum1;
  let delta = sum2;
  state.f[H_RR] = rr;
  if (state.u[HU_STARTED] == 0u) {
    state.u[HU_STARTED] = 1u;
    state.f[H_RR0] = rr;
    if (rr <= 0.0) { ${setStatus("ST_CONVERGED")} return; }
    if (!(abs(gamma) > 0.0) || !(abs(delta) > 0.0)) { ${setStatus("ST_BREAKDOWN")} return; }
    state.f[H_ALPHA] = gamma / delta;
    state.f[H_BETA] = 0.0;
    state.f[H_RHO] = gamma;
    state.f[H_DELTA] = delta;
    return;
  }
  state.u[HU_ITER] = state.u[HU_ITER] + 1u;
  if (rr <= state.f[H_TOL2] * state.f[H_RR0]) { ${setStatus("ST_CONVERGED")} return; }
  let beta = gamma / state.f[H_RHO];
  let denom = delta - beta * gamma / state.f[H_ALPHA];
  // Only an exact zero stops CG here: an indefinite matrix (or preconditioner) gives negative values that
  // CG can often step through, and a bad step is caught by the f64 check of the refinement anyway.
  if (!(abs(gamma) > 0.0) || !(abs(denom) > 0.0)) { ${setStatus("ST_BREAKDOWN")} return; }
  state.f[H_ALPHA] = gamma / denom;
  state.f[H_BETA] = beta;
  state.f[H_RHO] = gamma;
  state.f[H_DELTA] = delta;
}
`;
}
