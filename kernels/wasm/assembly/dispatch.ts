// Runs chunks of the task described by the control block at `ctrl` (see layout.ts) until none are left.
// Every thread of the team, the caller included, runs this loop; chunks are claimed with an atomic
// fetch-add, so the split adapts to whichever threads actually get CPU time. A chunk is CB whole blocks
// of vector elements, or one row block of the matrix (row blocks hold similar work, fixed per matrix);
// reductions write one partial per block to PART, which the caller sums in block order: the result does
// not depend on the thread count or on who ran which chunk.

import {
  BLOCK,
  CB,
  N,
  NCHUNKS,
  NEXT,
  OP,
  OP_AXPY,
  OP_CG_UPDATE,
  OP_DOT,
  OP_RESIDUAL,
  OP_SPMV,
  OP_SPMV_DOT,
  OP_TRIAD,
  OP_XPBY,
  P0,
  PART,
  ROWBLOCKS,
  S0,
} from "./layout";
import { axpyRange, cgUpdateRange, dotRange, subFromRange, triadRange, xpbyRange } from "./vector";
import { spmvRange } from "./spmv";

@inline function ptr(ctrl: usize, i: usize): usize {
  return <usize>load<i32>(ctrl + P0 + (i << 2));
}

@inline function claim(ctrl: usize): i32 {
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(ctrl + NEXT, 1);
  const c = load<i32>(ctrl + NEXT); // single-threaded build: nobody else claims
  store<i32>(ctrl + NEXT, c + 1);
  return c;
}

/** Returns how many chunks this thread ran. */
export function runChunks(ctrl: usize): i32 {
  const op = load<i32>(ctrl + OP);
  if (op == OP_SPMV || op == OP_SPMV_DOT || op == OP_RESIDUAL) return matrixChunks(ctrl, op);
  return vectorChunks(ctrl, op);
}

function matrixChunks(ctrl: usize, op: i32): i32 {
  let ran = 0;
  const nchunks = load<i32>(ctrl + NCHUNKS);
  const part = <usize>load<i32>(ctrl + PART);
  const rb = <usize>load<i32>(ctrl + ROWBLOCKS);
  const rowPtr = ptr(ctrl, 0);
  const cols = ptr(ctrl, 1);
  const vals = ptr(ctrl, 2);
  const p3 = ptr(ctrl, 3);
  const p4 = ptr(ctrl, 4);
  const p5 = ptr(ctrl, 5);
  for (let c = claim(ctrl); c < nchunks; c = claim(ctrl)) {
    ran++;
    const r0 = load<i32>(rb + (<usize>c << 2));
    const r1 = load<i32>(rb + (<usize>c << 2), 4);
    const pc = part + (<usize>c << 3);
    // The fused ops run the row block's SpMV, then the reduction while its output is still in cache:
    // cheaper than reducing inside the interleaved row loop, and one SpMV kernel for all three.
    if (op == OP_SPMV) {
      spmvRange(rowPtr, cols, vals, p3, p4, r0, r1);
    } else if (op == OP_SPMV_DOT) {
      spmvRange(rowPtr, cols, vals, p3, p4, r0, r1);
      store<f64>(pc, dotRange(p3, p4, r0, r1));
    } else {
      spmvRange(rowPtr, cols, vals, p3, p5, r0, r1);
      store<f64>(pc, subFromRange(p4, p5, r0, r1));
    }
  }
  return ran;
}

function vectorChunks(ctrl: usize, op: i32): i32 {
  let ran = 0;
  const n = load<i32>(ctrl + N);
  const cb = load<i32>(ctrl + CB);
  const nchunks = load<i32>(ctrl + NCHUNKS);
  const part = <usize>load<i32>(ctrl + PART);
  const s0 = load<f64>(ctrl + S0);
  const p0 = ptr(ctrl, 0);
  const p1 = ptr(ctrl, 1);
  const p2 = ptr(ctrl, 2);
  const p3 = ptr(ctrl, 3);
  const p4 = ptr(ctrl, 4);
  const p5 = ptr(ctrl, 5);
  const chunkLen = cb * BLOCK;
  for (let c = claim(ctrl); c < nchunks; c = claim(ctrl)) {
    ran++;
    const e0 = c * chunkLen;
    const e1 = min(e0 + chunkLen, n);
    switch (op) {
      case OP_DOT:
        for (let s = e0; s < e1; s += BLOCK) {
          store<f64>(part + (<usize>(s / BLOCK) << 3), dotRange(p0, p1, s, min(s + BLOCK, e1)));
        }
        break;
      case OP_AXPY:
        axpyRange(s0, p0, p1, e0, e1);
        break;
      case OP_XPBY:
        xpbyRange(p0, s0, p1, e0, e1);
        break;
      case OP_TRIAD:
        triadRange(p0, p1, s0, p2, e0, e1);
        break;
      case OP_CG_UPDATE:
        // Two sums per block, interleaved: PART[2b] = r·z, PART[2b + 1] = r·r.
        for (let s = e0; s < e1; s += BLOCK) {
          cgUpdateRange(s0, p0, p1, p2, p3, p4, p5, s, min(s + BLOCK, e1), part + (<usize>(s / BLOCK) << 4));
        }
        break;
    }
  }
  return ran;
}
