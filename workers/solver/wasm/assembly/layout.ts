// The control block JS writes before each kernel call, and the op codes. Byte offsets from the block's base.
// KEEP IN SYNC with workers/solver/wasm/layout.ts: the JS side checks `abiVersion()` at load time, so bump
// ABI_VERSION on both sides whenever anything here changes.

export const ABI_VERSION: i32 = 1;

/** Rows / vector elements per reduction block: partial sums are per block, so results do not depend on
 *  how many threads split the work (threads always start and end on block boundaries). */
export const BLOCK: i32 = 4096;

// Synchronisation words, each on its own 64-byte cache line so spinning readers do not fight writers.
export const GEN: usize = 0; // task generation, bumped by the caller to start a task
export const DONE: usize = 64; // helpers that finished the current task
export const ERR: usize = 128; // non-zero once a helper trapped

// Task parameters (written by the caller before bumping GEN).
export const OP: usize = 192;
export const NT: usize = 196; // threads taking part
export const N: usize = 200; // vector length or matrix rows
export const NB: usize = 204; // number of BLOCK-sized blocks in N
export const SPLITS: usize = 208; // matrix ops: i32[NT + 1] first row of each thread (block multiples)
export const PART: usize = 212; // f64 partial sums, one (or two) per block
export const P0: usize = 216; // pointer parameters P0..P7, 4 bytes apart
export const S0: usize = 256; // f64 scalar parameters S0, S1
export const S1: usize = 264;
export const CTRL_BYTES: i32 = 320;

export const OP_SPMV: i32 = 1;
export const OP_SPMV_DOT: i32 = 2;
export const OP_RESIDUAL: i32 = 3;
export const OP_DOT: i32 = 4;
export const OP_AXPY: i32 = 5;
export const OP_XPBY: i32 = 6;
export const OP_CG_UPDATE: i32 = 7;
export const OP_TRIAD: i32 = 8;
export const OP_EXIT: i32 = 99;
