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
 * Jacobi-preconditioned BiCGSTAB (right preconditioning, r̂ = r₀). Per iteration: three vector passes,
 * two SpMVs with their dots fused, three single-workgroup scalar kernels (α, ω, β computed on the GPU):
 *
 *   vecP:   p = r + β(p − ωv);  p̂ = D⁻¹p
 *   spmvV:  v = A p̂;                       partial r̂·v
 *   alpha:  α = ρ / (r̂·v)
 *   vecS:   s = r − αv;  ŝ = D⁻¹s
 *   spmvT:  t = A ŝ;                       partials t·s, t·t
 *   omega:  ω = (t·s) / (t·t)
 *   vecX:   x += αp̂ + ωŝ;  r = s − ωt;    partials r̂·r, r·r
 *   beta:   β = (ρ_new/ρ)(α/ω);  stop when r·r <= tol²·r₀·r₀
 *
 * Fewer fusions than CG (the dependency chain has three reductions), so 6 + 2·blocks dispatches.
 */
export const BICG_SLOT = { RV: 0, TS: 1, TT: 2, RHR: 3, RR: 4 } as const;
export const BICG_SLOTS = 5;

export function bicgVecPShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read_write> p: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> ph: array<f32>;
@group(0) @binding(6) var<storage, read> dinv: array<f32>;
${ROW_ENTRY}
  let run = running();
${rowLoop(
  "run",
  `
      let pi = r[li] + state.f[H_BETA] * (p[li] - state.f[H_OMEGA] * v[li]);
      p[li] = pi;
      ph[li] = dinv[li] * pi;
    `,
)}
}
`;
}

export function bicgVecSShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> s: array<f32>;
@group(0) @binding(5) var<storage, read_write> sh: array<f32>;
@group(0) @binding(6) var<storage, read> dinv: array<f32>;
${ROW_ENTRY}
  let run = running();
${rowLoop(
  "run",
  `
      let si = r[li] - state.f[H_ALPHA] * v[li];
      s[li] = si;
      sh[li] = dinv[li] * si;
    `,
)}
}
`;
}

export function bicgVecXShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> r: array<f32>;
@group(0) @binding(4) var<storage, read> ph: array<f32>;
@group(0) @binding(5) var<storage, read> sh: array<f32>;
@group(0) @binding(6) var<storage, read> s: array<f32>;
@group(0) @binding(7) var<storage, read> t: array<f32>;
@group(0) @binding(8) var<storage, read> rhat: array<f32>;
${reductionVars(2)}
${ROW_ENTRY}
  var a = 0.0;
  var q = 0.0;
  let run = running();
${rowLoop(
  "run",
  `
      let omega = state.f[H_OMEGA];
      x[li] = x[li] + state.f[H_ALPHA] * ph[li] + omega * sh[li];
      let ri = s[li] - omega * t[li];
      r[li] = ri;
      a = a + rhat[li] * ri;
      q = q + ri * ri;
    `,
)}
  ${reduceAndStore(["a", "q"], [BICG_SLOT.RHR, BICG_SLOT.RR], "wg")}
}
`;
}

/** v = A p̂ with partial r̂·v. */
export function bicgSpmvVShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}${CSR_BINDINGS}
@group(0) @binding(5) var<storage, read> xin: array<f32>;
@group(0) @binding(6) var<storage, read_write> yout: array<f32>;
@group(0) @binding(7) var<storage, read> rhat: array<f32>;
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
      d = d + yv * rhat[row];
    `,
)}
  ${reduceAndStore(["d"], [BICG_SLOT.RV], "params.wgBase + wg")}
}
`;
}

/** t = A ŝ with partials t·s and t·t. */
export function bicgSpmvTShader(layout: StateLayout): string {
  return `${prelude(layout)}${PARAMS_AND_STATE}${CSR_BINDINGS}
@group(0) @binding(5) var<storage, read> xin: array<f32>;
@group(0) @binding(6) var<storage, read_write> yout: array<f32>;
@group(0) @binding(7) var<storage, read> s: array<f32>;
${rowDotFn("xin")}
${reductionVars(2)}
${ROW_ENTRY}
  var ts = 0.0;
  var tt = 0.0;
  let run = running();
${rowLoop(
  "run",
  `
      let row = params.rowStart + li;
      let yv = rowDot(li);
      yout[row] = yv;
      ts = ts + yv * s[row];
      tt = tt + yv * yv;
    `,
)}
  ${reduceAndStore(["ts", "tt"], [BICG_SLOT.TS, BICG_SLOT.TT], "params.wgBase + wg")}
}
`;
}

/** The three scalar kernels live in one module, one entry point each. */
export function bicgScalarShader(layout: StateLayout): string {
  return `${prelude(layout)}${STATE_ONLY}
${reductionVars(2, SCALAR_WG)}
${scalarEntry("alpha")}
  ${scalarReduce([{ slot: BICG_SLOT.RV, count: "NBLK" }])}
  if (!running()) { return; }
  state.f[H_DELTA] = sum0;
  if (!(abs(sum0) > 0.0)) { ${setStatus("ST_BREAKDOWN")} return; }
  state.f[H_ALPHA] = state.f[H_RHO] / sum0;
}

${scalarEntry("omega")}
  ${scalarReduce([
    { slot: BICG_SLOT.TS, count: "NBLK" },
    { slot: BICG_SLOT.TT, count: "NBLK" },
  ])}
  if (!running()) { return; }
  // t·t = 0 means s = 0 (A nonsingular): ω = 0 finishes with x += αp̂ and r = s = 0.
  state.f[H_OMEGA] = select(0.0, sum0 / sum1, sum1 > 0.0);
}

${scalarEntry("beta")}
  ${scalarReduce([
    { slot: BICG_SLOT.RHR, count: "NFULL" },
    { slot: BICG_SLOT.RR, count: "NFULL" },
  ])}
  if (!running()) { return; }
  let rhoNew = sum0;
  let rr = sum1;
  state.f[H_RR] = rr;
  state.u[HU_ITER] = state.u[HU_ITER] + 1u;
  if (rr <= state.f[H_TOL2] * state.f[H_RR0]) { ${setStatus("ST_CONVERGED")} return; }
  let omega = state.f[H_OMEGA];
  if (!(abs(omega) > 0.0) || !(abs(rhoNew) > 0.0)) { ${setStatus("ST_BREAKDOWN")} return; }
  state.f[H_BETA] = (rhoNew / state.f[H_RHO]) * (state.f[H_ALPHA] / omega);
  state.f[H_RHO] = rhoNew;
}
`;
}
