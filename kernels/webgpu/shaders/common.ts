import { WORKGROUP_SIZE } from "../partition.ts";
import { FLOAT_WORDS, H, HEADER_WORDS, HU, STATUS, type StateLayout } from "./layout.ts";

/**
 * WGSL building blocks shared by the kernels. Sizes are baked in as constants (a solver compiles its
 * pipelines once per matrix shape and caches them by source text).
 */
export function prelude(layout: StateLayout): string {
  const f = Object.entries(H).map(([k, v]) => `const H_${k}: u32 = ${v}u;`);
  const u = Object.entries(HU).map(([k, v]) => `const HU_${k}: u32 = ${v}u;`);
  return `
const WG: u32 = ${WORKGROUP_SIZE}u;
const RPI: u32 = ${layout.rowsPerInvocation}u;
const STRIDE: u32 = ${layout.stride}u;
const NFULL: u32 = ${layout.wgFull}u;
const NBLK: u32 = ${layout.wgBlocks}u;
const ST_RUNNING: u32 = ${STATUS.RUNNING}u;
const ST_CONVERGED: u32 = ${STATUS.CONVERGED}u;
const ST_BREAKDOWN: u32 = ${STATUS.BREAKDOWN}u;
${f.join("\n")}
${u.join("\n")}
struct Params { rowStart: u32, rows: u32, wgBase: u32, wgCount: u32 }
struct State { f: array<f32, ${FLOAT_WORDS}>, u: array<u32, ${HEADER_WORDS - FLOAT_WORDS}>, parts: array<f32> }
fn slotAt(slot: u32, i: u32) -> u32 { return slot * STRIDE + i; }
`;
}

/** Params at binding 0, State at binding 1 (row-parallel kernels). */
export const PARAMS_AND_STATE = `
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> state: State;
fn running() -> bool { return state.u[HU_STATUS] == ST_RUNNING; }
`;

/** State alone at binding 0 (single-workgroup scalar kernels). */
export const STATE_ONLY = `
@group(0) @binding(0) var<storage, read_write> state: State;
fn running() -> bool { return state.u[HU_STATUS] == ST_RUNNING; }
`;

/**
 * Row-parallel entry point head: linear workgroup id over a 1D or 2D grid; overhang workgroups exit.
 * Each workgroup covers WG·RPI consecutive rows (see rowLoop).
 */
export const ROW_ENTRY = `
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let wg = wid.y * nwg.x + wid.x;
  // A uniform exit (it depends on uniform values only), so the barriers below stay in uniform control flow.
  if (wg >= params.wgCount) { return; }
`;

/**
 * Runs `body` for the RPI rows of this invocation: block-local row `li`, consecutive invocations on
 * consecutive rows (coalesced). Several rows per invocation means fewer workgroups, hence fewer barrier
 * reductions and partials (a software adapter pays dearly per invocation-barrier).
 */
export function rowLoop(condition: string, body: string): string {
  return `
  for (var k: u32 = 0u; k < RPI; k = k + 1u) {
    let li = (wg * RPI + k) * WG + lid;
    if (li < params.rows && ${condition}) {
      ${body}
    }
  }
`;
}

/** Workgroup arrays for `count` simultaneous tree reductions. */
export function reductionVars(count: number, size: string | number = "WG"): string {
  let s = "";
  for (let i = 0; i < count; i++) s += `var<workgroup> red${i}: array<f32, ${size}>;\n`;
  return s;
}

/**
 * Tree-reduces the per-invocation values `values[i]` over the workgroup; invocation 0 stores sum i into
 * partial slot `slots[i]` at index `index` (a WGSL expression).
 */
export function reduceAndStore(values: readonly string[], slots: readonly number[], index: string): string {
  const stores = values.map((v, i) => `red${i}[lid] = ${v};`).join(" ");
  const adds = values.map((_, i) => `red${i}[lid] = red${i}[lid] + red${i}[lid + half];`).join(" ");
  const outs = slots.map((slot, i) => `state.parts[slotAt(${slot}u, ${index})] = red${i}[0];`).join(" ");
  return `
  ${stores}
  workgroupBarrier();
  for (var half: u32 = WG / 2u; half > 0u; half = half >> 1u) {
    if (lid < half) { ${adds} }
    workgroupBarrier();
  }
  if (lid == 0u) { ${outs} }
`;
}

/** Invocations of the single-workgroup scalar kernels (few barriers; partial counts are small). */
export const SCALAR_WG = 64;

/** Head of a single-workgroup scalar kernel named `name`. */
export function scalarEntry(name: string): string {
  return `
@compute @workgroup_size(${SCALAR_WG})
fn ${name}(@builtin(local_invocation_index) lid: u32) {
`;
}

/**
 * Single-workgroup reduction of whole partial slots into `sum0, sum1, ...`; afterwards only invocation 0
 * continues (the scalar update is serial and tiny).
 */
export function scalarReduce(slots: readonly { slot: number; count: "NFULL" | "NBLK" }[]): string {
  const decl = slots.map((_, i) => `var a${i} = 0.0;`).join(" ");
  const loops = slots
    .map(
      (s, i) =>
        `for (var k = lid; k < ${s.count}; k = k + ${SCALAR_WG}u) { a${i} = a${i} + state.parts[slotAt(${s.slot}u, k)]; }`,
    )
    .join("\n  ");
  const stores = slots.map((_, i) => `red${i}[lid] = a${i};`).join(" ");
  const adds = slots.map((_, i) => `red${i}[lid] = red${i}[lid] + red${i}[lid + half];`).join(" ");
  const lets = slots.map((_, i) => `let sum${i} = red${i}[0];`).join(" ");
  return `
  ${decl}
  ${loops}
  ${stores}
  workgroupBarrier();
  for (var half: u32 = ${SCALAR_WG / 2}u; half > 0u; half = half >> 1u) {
    if (lid < half) { ${adds} }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  ${lets}
`;
}

/** CSR bindings of one row block at bindings 2..4 (0 = params, 1 = state). */
export const CSR_BINDINGS = `
@group(0) @binding(2) var<storage, read> rowPtr: array<u32>;
@group(0) @binding(3) var<storage, read> colIdx: array<u32>;
@group(0) @binding(4) var<storage, read> vals: array<f32>;
`;

/** (A v)_row for block-local row `li` of the block's CSR arrays, gathering from the full vector `vec`. */
export function rowDotFn(vec: string): string {
  return `
fn rowDot(li: u32) -> f32 {
  var acc = 0.0;
  let hi = rowPtr[li + 1u];
  for (var k = rowPtr[li]; k < hi; k = k + 1u) { acc = acc + vals[k] * ${vec}[colIdx[k]]; }
  return acc;
}
`;
}

export function setStatus(status: "ST_CONVERGED" | "ST_BREAKDOWN"): string {
  return `state.u[HU_STATUS] = ${status};`;
}
