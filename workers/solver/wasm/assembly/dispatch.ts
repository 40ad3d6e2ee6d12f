// Runs thread t's share of the task described by the control block at `ctrl` (see layout.ts).
// Vector ops split whole BLOCKs evenly; matrix ops use the caller's nnz-balanced row splits (also whole
// blocks). Reductions write one partial per block to PART, which the caller sums in block order: the
// result is the same for any thread count.

import {
  BLOCK,
  N,
  NB,
  NT,
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
  S0,
  SPLITS,
} from "./layout";
import { axpyRange, cgUpdateRange, dotRange, triadRange, xpbyRange } from "./vector";
import { residualRange, spmvDotRange, spmvRange } from "./spmv";

@inline function ptr(ctrl: usize, i: usize): usize {
  return <usize>load<i32>(ctrl + P0 + (i << 2));
}

export function runShare(ctrl: usize, t: i32): void {
  const op = load<i32>(ctrl + OP);
  const nt = load<i32>(ctrl + NT);
  const n = load<i32>(ctrl + N);
  const nb = load<i32>(ctrl + NB);
  const part = <usize>load<i32>(ctrl + PART);
  const s0 = load<f64>(ctrl + S0);

  if (op == OP_SPMV || op == OP_SPMV_DOT || op == OP_RESIDUAL) {
    const splits = <usize>load<i32>(ctrl + SPLITS);
    const r0 = load<i32>(splits + (<usize>t << 2));
    const r1 = load<i32>(splits + (<usize>t << 2), 4);
    const rowPtr = ptr(ctrl, 0);
    const cols = ptr(ctrl, 1);
    const vals = ptr(ctrl, 2);
    if (op == OP_SPMV) {
      spmvRange(rowPtr, cols, vals, ptr(ctrl, 3), ptr(ctrl, 4), r0, r1);
      return;
    }
    for (let s = r0; s < r1; s += BLOCK) {
      const e = min(s + BLOCK, r1);
      const v =
        op == OP_SPMV_DOT
          ? spmvDotRange(rowPtr, cols, vals, ptr(ctrl, 3), ptr(ctrl, 4), s, e)
          : residualRange(rowPtr, cols, vals, ptr(ctrl, 3), ptr(ctrl, 4), ptr(ctrl, 5), s, e);
      store<f64>(part + (<usize>(s / BLOCK) << 3), v);
    }
    return;
  }

  // Vector ops: blocks [b0, b1) of the n elements.
  const b0 = <i32>((<i64>t * nb) / nt);
  const b1 = <i32>((<i64>(t + 1) * nb) / nt);
  const e0 = b0 * BLOCK;
  const e1 = min(b1 * BLOCK, n);
  if (e0 >= e1) return;
  switch (op) {
    case OP_DOT: {
      const x = ptr(ctrl, 0);
      const y = ptr(ctrl, 1);
      for (let b = b0; b < b1; b++) {
        store<f64>(part + (<usize>b << 3), dotRange(x, y, b * BLOCK, min(b * BLOCK + BLOCK, n)));
      }
      break;
    }
    case OP_AXPY:
      axpyRange(s0, ptr(ctrl, 0), ptr(ctrl, 1), e0, e1);
      break;
    case OP_XPBY:
      xpbyRange(ptr(ctrl, 0), s0, ptr(ctrl, 1), e0, e1);
      break;
    case OP_TRIAD:
      triadRange(ptr(ctrl, 0), ptr(ctrl, 1), s0, ptr(ctrl, 2), e0, e1);
      break;
    case OP_CG_UPDATE: {
      // Two sums per block, interleaved: PART[2b] = r·z, PART[2b + 1] = r·r.
      for (let b = b0; b < b1; b++) {
        cgUpdateRange(
          s0,
          ptr(ctrl, 0),
          ptr(ctrl, 1),
          ptr(ctrl, 2),
          ptr(ctrl, 3),
          ptr(ctrl, 4),
          ptr(ctrl, 5),
          b * BLOCK,
          min(b * BLOCK + BLOCK, n),
          part + (<usize>b << 4),
        );
      }
      break;
    }
  }
}
