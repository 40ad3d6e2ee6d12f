import type { CsrMatrix } from "../../sparse/csr.ts";
import { transpose } from "../../sparse/structure.ts";
import { SolverError } from "../errors.ts";

/**
 * P A Q = L U. L is unit lower triangular in CSC with its diagonal first in each column, U upper triangular
 * in CSC with its diagonal last; row indices of both are in pivot order. pinv[i] = pivot position of
 * original row i; q[k] = original column eliminated at step k.
 */
export interface LuFactors {
  readonly n: number;
  readonly lp: Int32Array;
  readonly li: Int32Array;
  readonly lx: Float64Array;
  readonly up: Int32Array;
  readonly ui: Int32Array;
  readonly ux: Float64Array;
  readonly pinv: Int32Array;
  readonly q: Int32Array;
}

export interface LuOptions {
  /** Threshold partial pivoting: keep the diagonal candidate if |a| ≥ pivotTol · max |column|. */
  pivotTol: number;
  /** Refuse (fill_too_large) once nnz(L) + nnz(U) would exceed this. */
  maxFill: number;
}

class Growable {
  idx: Int32Array;
  val: Float64Array;
  constructor(capacity: number) {
    this.idx = new Int32Array(capacity);
    this.val = new Float64Array(capacity);
  }
  ensure(size: number, limit: number): void {
    if (size <= this.idx.length) return;
    if (size > limit) throw new SolverError("fill_too_large", `LU fill passed the limit of ${limit} entries`);
    const cap = Math.min(limit, Math.max(size, 2 * this.idx.length));
    const idx = new Int32Array(cap);
    idx.set(this.idx);
    const val = new Float64Array(cap);
    val.set(this.val);
    this.idx = idx;
    this.val = val;
  }
}

/**
 * Left-looking sparse LU with threshold partial pivoting (Gilbert–Peierls; after CSparse's cs_lu): column k
 * is x = L \ A(:, q[k]) by a sparse triangular solve whose nonzero pattern comes from a depth-first search
 * in the graph of L, so the work is proportional to the flops, not to n per column.
 */
export function sparseLu(a: CsrMatrix, q: Int32Array, opts: LuOptions): LuFactors {
  const n = a.rows;
  const csc = transpose(a); // rows of Aᵀ = columns of A
  const ap = csc.rowPtr;
  const ai = csc.colIdx;
  const ax = csc.values;
  const budget = Math.max(16, Math.min(opts.maxFill, 4 * ap[n]! + n));
  const lBuf = new Growable(budget);
  const uBuf = new Growable(budget);
  const lp = new Int32Array(n + 1);
  const up = new Int32Array(n + 1);
  const pinv = new Int32Array(n).fill(-1);
  const x = new Float64Array(n);
  const xi = new Int32Array(n); // reach, stored in xi[top..n)
  const stack = new Int32Array(n);
  const pstack = new Int32Array(n);
  const mark = new Int32Array(n).fill(-1);
  let lnz = 0;
  let unz = 0;
  for (let k = 0; k < n; k++) {
    lp[k] = lnz;
    up[k] = unz;
    lBuf.ensure(lnz + n, opts.maxFill - unz);
    uBuf.ensure(unz + n, opts.maxFill - lnz);
    const li = lBuf.idx;
    const lx = lBuf.val;
    const col = q[k]!;
    // Reach: rows that become nonzero in L \ A(:, col), in topological order.
    let top = n;
    for (let p = ap[col]!; p < ap[col + 1]!; p++) {
      const start = ai[p]!;
      if (mark[start] === k) continue;
      let head = 0;
      stack[0] = start;
      while (head >= 0) {
        const j = stack[head]!;
        const jnew = pinv[j]!;
        if (mark[j] !== k) {
          mark[j] = k;
          pstack[head] = jnew < 0 ? 0 : lp[jnew]! + 1; // skip L's unit diagonal
        }
        let done = true;
        const pEnd = jnew < 0 ? 0 : lp[jnew + 1]!;
        for (let pp = pstack[head]!; pp < pEnd; pp++) {
          const i = li[pp]!;
          if (mark[i] === k) continue;
          pstack[head] = pp;
          stack[++head] = i;
          done = false;
          break;
        }
        if (done) {
          head--;
          xi[--top] = j;
        }
      }
    }
    // Numeric sparse triangular solve.
    for (let p = top; p < n; p++) x[xi[p]!] = 0;
    for (let p = ap[col]!; p < ap[col + 1]!; p++) x[ai[p]!] = ax[p]!;
    for (let px = top; px < n; px++) {
      const j = xi[px]!;
      const jnew = pinv[j]!;
      if (jnew < 0) continue;
      const xj = x[j]!;
      for (let p = lp[jnew]! + 1; p < lp[jnew + 1]!; p++) x[li[p]!] = x[li[p]!]! - lx[p]! * xj;
    }
    // Pivot: largest unpivoted entry, unless the diagonal candidate is within the threshold.
    let ipiv = -1;
    let best = -1;
    const ui = uBuf.idx;
    const ux = uBuf.val;
    for (let p = top; p < n; p++) {
      const i = xi[p]!;
      if (pinv[i]! < 0) {
        const t = Math.abs(x[i]!);
        if (t > best) {
          best = t;
          ipiv = i;
        }
      } else {
        ui[unz] = pinv[i]!;
        ux[unz++] = x[i]!;
      }
    }
    if (ipiv < 0 || !(best > 0) || !Number.isFinite(best)) {
      throw new SolverError("singular_matrix", `no usable pivot in column ${col} (step ${k}): A is singular`);
    }
    if (pinv[col]! < 0 && mark[col] === k && Math.abs(x[col]!) >= best * opts.pivotTol) ipiv = col;
    const pivot = x[ipiv]!;
    ui[unz] = k;
    ux[unz++] = pivot;
    pinv[ipiv] = k;
    li[lnz] = ipiv;
    lx[lnz++] = 1;
    for (let p = top; p < n; p++) {
      const i = xi[p]!;
      if (pinv[i]! < 0) {
        li[lnz] = i;
        lx[lnz++] = x[i]! / pivot;
      }
      x[i] = 0;
    }
  }
  lp[n] = lnz;
  up[n] = unz;
  const li = lBuf.idx.slice(0, lnz);
  for (let p = 0; p < lnz; p++) li[p] = pinv[li[p]!]!;
  return {
    n,
    lp,
    li,
    lx: lBuf.val.slice(0, lnz),
    up,
    ui: uBuf.idx.slice(0, unz),
    ux: uBuf.val.slice(0, unz),
    pinv,
    q,
  };
}

/** x = A⁻¹ b from the factors; `work` is n scratch entries. b and x may not alias work. */
export function luSolve(f: LuFactors, b: Float64Array, x: Float64Array, work: Float64Array): void {
  const { n, lp, li, lx, up, ui, ux, pinv, q } = f;
  for (let i = 0; i < n; i++) work[pinv[i]!] = b[i]!;
  for (let j = 0; j < n; j++) {
    const wj = work[j]!;
    if (wj === 0) continue;
    for (let p = lp[j]! + 1; p < lp[j + 1]!; p++) work[li[p]!] = work[li[p]!]! - lx[p]! * wj;
  }
  for (let j = n - 1; j >= 0; j--) {
    const diagPos = up[j + 1]! - 1;
    const wj = work[j]! / ux[diagPos]!;
    work[j] = wj;
    if (wj === 0) continue;
    for (let p = up[j]!; p < diagPos; p++) work[ui[p]!] = work[ui[p]!]! - ux[p]! * wj;
  }
  for (let k = 0; k < n; k++) x[q[k]!] = work[k]!;
}

export function luNnz(f: LuFactors): number {
  return f.lp[f.n]! + f.up[f.n]!;
}
