// The control block JS writes before each kernel call, and the op codes. Byte offsets from the block's base.
// KEEP IN SYNC with kernels/wasm/layout.ts: the JS side checks `abiVersion()` at load time, so bump
// ABI_VERSION on both sides whenever anything here changes.

export const ABI_VERSION: i32 = 3;

/** Vector elements per reduction block. Partial sums are per block (for matrix ops: per row block, a
 *  partition fixed by the matrix alone, see ROWBLOCKS), so results do not depend on how many threads
 *  run, nor on which thread ran which block. */
export const BLOCK: i32 = 4096;

// Synchronisation words, each on its own 64-byte cache line.
/** Task generation: the caller bumps it to wake helpers (they spin on it, then sleep on it). */
export const GEN: usize = 0;
/** (generation & 0xffffff) << 8 | OPEN | number of helpers that joined the task (7 bits). */
export const STATE: usize = 64;
export const STATE_OPEN: i32 = 0x80;
export const STATE_COUNT: i32 = 0x7f;
/** Next chunk to claim (atomic fetch-add: work is handed out dynamically, so a helper that the OS has
 *  not scheduled yet simply gets nothing, and the caller does not wait for it). */
export const NEXT: usize = 128;
/** Non-zero once a helper trapped. */
export const ERR: usize = 192;
/** Non-zero: helpers leave their loop. */
export const EXIT: usize = 196;
/** Chunks run by helpers since the instance started (diagnostics: is the team really sharing work?). */
export const HELPED: usize = 200;

// Task parameters (written by the caller before opening the task).
export const OP: usize = 256;
export const N: usize = 260; // vector length or matrix rows
export const NB: usize = 264; // number of blocks (vector ops: BLOCK elements; matrix ops: row blocks)
export const CB: usize = 268; // blocks per chunk (matrix ops: 1)
export const NCHUNKS: usize = 272;
export const PART: usize = 276; // f64 partial sums, one (or two) per block
export const ROWBLOCKS: usize = 340; // matrix ops: i32[NB + 1] first row of each row block
export const P0: usize = 280; // pointer parameters P0..P7, 4 bytes apart
export const S0: usize = 320; // f64 scalar parameters S0, S1
export const S1: usize = 328;
export const CTRL_BYTES: i32 = 384;

export const OP_SPMV: i32 = 1;
export const OP_SPMV_DOT: i32 = 2;
export const OP_RESIDUAL: i32 = 3;
export const OP_DOT: i32 = 4;
export const OP_AXPY: i32 = 5;
export const OP_XPBY: i32 = 6;
export const OP_CG_UPDATE: i32 = 7;
export const OP_TRIAD: i32 = 8;
