/**
 * The control block the caller writes before each kernel call, and the op codes: the JS mirror of
 * assembly/layout.ts. KEEP IN SYNC — a module built from a different layout is refused at load time
 * (`abiVersion()` must equal ABI_VERSION), so bump ABI_VERSION on both sides with every change.
 */
export const ABI_VERSION = 1;

// Byte offsets from the control block's base.
export const GEN = 0;
export const DONE = 64;
export const ERR = 128;
export const OP = 192;
export const NT = 196;
export const N = 200;
export const NB = 204;
export const SPLITS = 208;
export const PART = 212;
export const P0 = 216;
export const S0 = 256;
export const S1 = 264;
export const CTRL_BYTES = 320;

export const Op = {
  spmv: 1,
  spmvDot: 2,
  residual: 3,
  dot: 4,
  axpy: 5,
  xpby: 6,
  cgUpdate: 7,
  triad: 8,
  exit: 99,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];
