import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { nnzOf } from "../../src/core/sparse/csr.ts";
import { SolverError } from "../../src/core/solver/errors.ts";
import type { KernelMatrix, Kernels } from "../../src/core/solver/kernels.ts";
import { WasmKernelError } from "./errors.ts";
import type { WasmHeap } from "./heap.ts";
import { Op } from "./layout.ts";
import { checkCsr, rowBlocks, WasmMatrix } from "./matrix.ts";
import type { ThreadTeam } from "./team.ts";

export interface WasmKernels extends Kernels {
  readonly backend: "wasm";
  /** Whether the memory is shared (helper threads possible; growth never invalidates vectors). */
  readonly sharedMemory: boolean;
  /** a = b + s·c: the STREAM triad, the bandwidth yardstick for benchmarks (same runtime, same threads). */
  triad(a: Float64Array, b: Float64Array, s: number, c: Float64Array): void;
}

/** Below this many elements a vector op runs on the caller alone: waking helpers costs more. */
const PAR_MIN_ELEMENTS = 1 << 15;
/** Partial-sum slots reserved up front (vectors up to 2²⁴ elements); more are added on demand. */
const INITIAL_PARTIAL_SLOTS = (2 * (1 << 24)) / 4096;

type MatrixOp = typeof Op.spmv | typeof Op.spmvDot | typeof Op.residual;
type VectorOp = typeof Op.dot | typeof Op.axpy | typeof Op.xpby | typeof Op.cgUpdate | typeof Op.triad;

/**
 * The Kernels contract on wasm memory. Every call checks its arguments (cheaply: it is on the hot path),
 * writes one task into the control block and runs it on the team. Reductions come back as per-block
 * partial sums, added here in block order.
 */
export class WasmKernelsImpl implements WasmKernels {
  readonly backend = "wasm" as const;
  readonly threads: number;
  readonly sharedMemory: boolean;
  private readonly heap: WasmHeap;
  private readonly team: ThreadTeam;
  /** Elements per reduction block of vector ops (the module's BLOCK). */
  private readonly block: number;
  private partPtr = 0;
  private partCap = 0; // f64 slots
  private part: Float64Array = new Float64Array(0);
  private disposed = false;

  constructor(heap: WasmHeap, team: ThreadTeam, block: number) {
    this.heap = heap;
    this.team = team;
    this.block = block;
    this.threads = team.threads;
    this.sharedMemory = heap.shared;
    this.reservePartials(INITIAL_PARTIAL_SLOTS);
    heap.onGrow(() => {
      this.part = heap.f64(this.partPtr, this.partCap);
    });
  }

  private reservePartials(slots: number): void {
    if (slots <= this.partCap) return;
    const cap = Math.max(slots, 2 * this.partCap);
    this.partPtr = this.heap.alloc(cap * 8);
    this.partCap = cap;
    this.part = this.heap.f64(this.partPtr, cap);
  }

  private live(): void {
    if (this.disposed) throw new WasmKernelError("disposed", "this wasm kernels instance was disposed");
  }

  private ptr(v: Float64Array, what: string): number {
    if (!this.heap.owns(v)) {
      throw new WasmKernelError(
        "foreign_vector",
        `${what} is not a vector of this wasm instance (use vector(n))`,
      );
    }
    return v.byteOffset;
  }

  private mat(a: KernelMatrix): WasmMatrix {
    if (!(a instanceof WasmMatrix) || a.owner !== this) {
      throw new SolverError(
        "backend_mismatch",
        "matrix handle was not created by this wasm kernels instance",
      );
    }
    return a;
  }

  /** Length check without allocation (this is on every kernel call's path). */
  private len(v: Float64Array, n: number, name: string): void {
    if (v.length !== n)
      throw new SolverError("dimension_mismatch", `${name} has length ${v.length}, expected ${n}`);
  }

  private distinct(a: Float64Array, b: Float64Array, what: string): void {
    if (a.byteOffset === b.byteOffset && a.length > 0) {
      throw new WasmKernelError("aliased_vectors", `${what} must be different vectors`);
    }
  }

  private blocks(n: number): number {
    return Math.ceil(n / this.block);
  }

  /** Σ part[first + stride·b] for b in [0, nb): fixed order, so the same for any thread count. */
  private sumPartials(nb: number, first: number, stride: number): number {
    const p = this.part;
    let s = 0;
    for (let b = 0, i = first; b < nb; b++, i += stride) s += p[i]!;
    return s;
  }

  vector(n: number): Float64Array {
    this.live();
    if (!Number.isInteger(n) || n < 0) {
      throw new SolverError("invalid_option", `vector length must be a non-negative integer, got ${n}`);
    }
    this.reservePartials(2 * this.blocks(n));
    return this.heap.issueF64(this.heap.alloc(n * 8), n);
  }

  matrix(a: CsrMatrix): KernelMatrix {
    this.live();
    const nnz = nnzOf(a);
    checkCsr(a, nnz);
    const { rows, cols } = a;
    const blocks = rowBlocks(a);
    const nb = blocks.length - 1;
    this.reservePartials(Math.max(nb, 2 * this.blocks(Math.max(rows, cols))));
    // Non-shared memory cannot grow once vectors exist: make room now for a solver's worth of vectors.
    if (!this.heap.shared) {
      const bytes = 4 * (rows + 1) + 12 * nnz + 4 * (nb + 1) + 16 * 8 * Math.max(rows, cols) + 4096;
      this.heap.ensure(this.heap.usedBytes + bytes);
    }
    const rowPtr = this.heap.alloc(4 * (rows + 1));
    const colIdx = this.heap.alloc(4 * nnz);
    const values = this.heap.alloc(8 * nnz);
    const rb = this.heap.alloc(4 * (nb + 1));
    this.heap.i32(rowPtr, rows + 1).set(a.rowPtr);
    this.heap.i32(colIdx, nnz).set(a.colIdx.subarray(0, nnz));
    this.heap.f64(values, nnz).set(a.values.subarray(0, nnz));
    this.heap.i32(rb, nb + 1).set(blocks);
    return new WasmMatrix(this, rows, cols, nnz, rowPtr, colIdx, values, rb, nb);
  }

  private matrixTask(op: MatrixOp, m: WasmMatrix): void {
    const t = this.team;
    t.matrixTask(op, m.rows, m.blocks, m.rowBlocks, this.partPtr);
    t.ptr(0, m.rowPtr);
    t.ptr(1, m.colIdx);
    t.ptr(2, m.values);
  }

  spmv(a: KernelMatrix, x: Float64Array, y: Float64Array): void {
    this.live();
    const m = this.mat(a);
    this.len(x, m.cols, "x");
    this.len(y, m.rows, "y");
    this.distinct(x, y, "spmv x and y");
    this.matrixTask(Op.spmv, m);
    this.team.ptr(3, this.ptr(x, "x"));
    this.team.ptr(4, this.ptr(y, "y"));
    this.team.run(m.parallel);
  }

  spmvDot(a: KernelMatrix, p: Float64Array, q: Float64Array): number {
    this.live();
    const m = this.mat(a);
    if (m.rows !== m.cols)
      throw new SolverError("not_square", `spmvDot needs a square matrix, got ${m.rows}×${m.cols}`);
    this.len(p, m.rows, "p");
    this.len(q, m.rows, "q");
    this.distinct(p, q, "spmvDot p and q");
    this.matrixTask(Op.spmvDot, m);
    this.team.ptr(3, this.ptr(p, "p"));
    this.team.ptr(4, this.ptr(q, "q"));
    this.team.run(m.parallel);
    return this.sumPartials(m.blocks, 0, 1);
  }

  residual(a: KernelMatrix, x: Float64Array, b: Float64Array, r: Float64Array): number {
    this.live();
    const m = this.mat(a);
    this.len(x, m.cols, "x");
    this.len(b, m.rows, "b");
    this.len(r, m.rows, "r");
    this.distinct(x, r, "residual x and r");
    this.distinct(b, r, "residual b and r");
    this.matrixTask(Op.residual, m);
    this.team.ptr(3, this.ptr(x, "x"));
    this.team.ptr(4, this.ptr(b, "b"));
    this.team.ptr(5, this.ptr(r, "r"));
    this.team.run(m.parallel);
    return this.sumPartials(m.blocks, 0, 1);
  }

  private vectorTask(op: VectorOp, n: number): void {
    this.team.vectorTask(op, n, this.blocks(n), this.partPtr);
  }

  dot(x: Float64Array, y: Float64Array): number {
    this.live();
    const n = x.length;
    this.len(y, n, "y");
    if (n === 0) return 0;
    this.vectorTask(Op.dot, n);
    this.team.ptr(0, this.ptr(x, "x"));
    this.team.ptr(1, this.ptr(y, "y"));
    this.team.run(n >= PAR_MIN_ELEMENTS);
    return this.sumPartials(this.blocks(n), 0, 1);
  }

  axpy(alpha: number, x: Float64Array, y: Float64Array): void {
    this.live();
    const n = x.length;
    this.len(y, n, "y");
    if (n === 0) return;
    this.vectorTask(Op.axpy, n);
    this.team.ptr(0, this.ptr(x, "x"));
    this.team.ptr(1, this.ptr(y, "y"));
    this.team.scalars(alpha);
    this.team.run(n >= PAR_MIN_ELEMENTS);
  }

  xpby(x: Float64Array, beta: number, y: Float64Array): void {
    this.live();
    const n = x.length;
    this.len(y, n, "y");
    if (n === 0) return;
    this.vectorTask(Op.xpby, n);
    this.team.ptr(0, this.ptr(x, "x"));
    this.team.ptr(1, this.ptr(y, "y"));
    this.team.scalars(beta);
    this.team.run(n >= PAR_MIN_ELEMENTS);
  }

  triad(a: Float64Array, b: Float64Array, s: number, c: Float64Array): void {
    this.live();
    const n = a.length;
    this.len(b, n, "b");
    this.len(c, n, "c");
    if (n === 0) return;
    this.vectorTask(Op.triad, n);
    this.team.ptr(0, this.ptr(a, "a"));
    this.team.ptr(1, this.ptr(b, "b"));
    this.team.ptr(2, this.ptr(c, "c"));
    this.team.scalars(s);
    this.team.run(n >= PAR_MIN_ELEMENTS);
  }

  cgUpdate(
    alpha: number,
    p: Float64Array,
    q: Float64Array,
    x: Float64Array,
    r: Float64Array,
    dinv: Float64Array | null,
    z: Float64Array,
    out: Float64Array,
  ): void {
    this.live();
    const n = x.length;
    this.len(p, n, "p");
    this.len(q, n, "q");
    this.len(r, n, "r");
    this.len(z, n, "z");
    if (dinv !== null) this.len(dinv, n, "dinv");
    if (n === 0) {
      out[0] = 0;
      out[1] = 0;
      return;
    }
    this.vectorTask(Op.cgUpdate, n);
    this.team.ptr(0, this.ptr(p, "p"));
    this.team.ptr(1, this.ptr(q, "q"));
    this.team.ptr(2, this.ptr(x, "x"));
    this.team.ptr(3, this.ptr(r, "r"));
    this.team.ptr(4, dinv === null ? 0 : this.ptr(dinv, "dinv"));
    this.team.ptr(5, this.ptr(z, "z"));
    this.team.scalars(alpha);
    this.team.run(n >= PAR_MIN_ELEMENTS);
    const nb = this.blocks(n);
    out[0] = this.sumPartials(nb, 0, 2);
    out[1] = this.sumPartials(nb, 1, 2);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.team.dispose();
  }
}
