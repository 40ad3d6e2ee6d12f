/**
 * The control block the caller writes before each kernel call, and the op codes: the JS mirror of
 * assembly/layout.ts (see there for what each word means). KEEP IN SYNC — a module built from a different
 * layout is refused at load time (`abiVersion()` must equal ABI_VERSION), so bump ABI_VERSION on both
 * sides with every change.
 */
export const ABI_VERSION = 3;

// Byte offsets from the control block's base.
export const GEN = 0;
export const STATE = 64;
export const STATE_OPEN = 0x80;
export const STATE_COUNT = 0x7f;
export const NEXT = 128;
export const ERR = 192;
export const EXIT = 196;
export const HELPED = 200;
export const OP = 256;
export const N = 260;
export const NB = 264;
export const CB = 268;
export const NCHUNKS = 272;
export const PART = 276;
export const ROWBLOCKS = 340;
export const P0 = 280;
export const S0 = 320;
export const S1 = 328;
export const CTRL_BYTES = 384;

export const Op = {
  spmv: 1,
  spmvDot: 2,
  residual: 3,
  dot: 4,
  axpy: 5,
  xpby: 6,
  cgUpdate: 7,
  triad: 8,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];
