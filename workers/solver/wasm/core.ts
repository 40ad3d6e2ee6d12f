import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { nnzOf } from "../../../src/core/sparse/csr.ts";
import { SolverError } from "../../../src/core/solver/errors.ts";
import type { KernelMatrix, Kernels } from "../../../src/core/solver/kernels.ts";
import { WasmKernelError } from "./errors.ts";
import { WasmHeap } from "./heap.ts";
import { ABI_VERSION, CTRL_BYTES, DONE, ERR, Op } from "./layout.ts";
import type { StartedHelper, WasmPlatform } from "./platform.ts";
import { rowSplits } from "./splits.ts";
import { ThreadTeam } from "./team.ts";
import type { RunShare } from "./team.ts";

export interface WasmKernelsOptions {
  /** Threads including the caller (default 1). More than 1 needs shared memory and a thread that may
   *  block (a worker, or Node); otherwise the instance runs on the caller alone (see `threads`). */
  threads?: number;
  /** Initial memory; only matters for non-shared memory, which cannot grow once vectors exist. */
  memoryBytes?: number;
}

export interface WasmKernels extends Kernels {
  readonly backend: "wasm";
  /** Whether the memory is shared (helper threads possible; growth never invalidates vectors). */
  readonly sharedMemory: boolean;
  /** a = b + s·c: the STREAM triad, the bandwidth yardstick for benchmarks (same runtime, same threads). */
  triad(a: Float64Array, b: Float64Array, s: number, c: Float64Array): void;
}

interface KernelExports {
  runShare: RunShare;
  abiVersion(): number;
  blockSize(): number;
  ctrlBytes(): number;
}

const MAX_THREADS = 64;
const RESERVED_LOW_BYTES = 1024; // pointer 0 means "none" (dinv), so nothing lives at the bottom
/** Below this many elements a vector op runs on the caller alone: waking helpers costs more. */
const PAR_MIN_ELEMENTS = 1 << 15;
/** Below this much work (nnz + rows) a matrix op runs on the caller alone. */
const PAR_MIN_MATRIX_WORK = 1 << 15;
const HELPER_START_TIMEOUT_MS = 30_000;
/** Maximum memory sizes tried in turn: a shared memory reserves its maximum up front. */
const MAX_PAGES_TRIED = [65536, 32768, 16384, 4096];

/** The wasm backend's matrix handle: where the CSR arrays live in wasm memory. */
class WasmMatrix implements KernelMatrix {
  constructor(
    readonly owner: object,
    readonly rows: number,
    readonly cols: number,
    readonly nnz: number,
    readonly rowPtr: number,
    readonly colIdx: number,
    readonly values: number,
    /** i32[nt + 1] first row of each thread, or [0, rows] when the matrix is too small to split. */
    readonly splits: number,
    readonly nt: number,
  ) {}
}

function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new WasmKernelError("invalid_option", `threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
  }
}

function createMemory(shared: boolean, initialBytes: number): WebAssembly.Memory {
  const initial = Math.max(1, Math.ceil(initialBytes / 65536));
  let last: unknown = null;
  for (const maximum of MAX_PAGES_TRIED) {
    if (maximum < initial) break;
    try {
      return new WebAssembly.Memory({ initial, maximum, shared });
    } catch (e) {
      last = e;
    }
  }
  throw new WasmKernelError("unsupported", `cannot create ${shared ? "shared " : ""}wasm memory: ${String(last)}`);
}

async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const ex = instance.exports as unknown as KernelExports;
  const abi = typeof ex.abiVersion === "function" ? ex.abiVersion() : -1;
  if (abi !== ABI_VERSION || ex.ctrlBytes() !== CTRL_BYTES) {
    throw new WasmKernelError("abi_mismatch", `module ABI ${abi}, this code expects ${ABI_VERSION}: rebuild`);
  }
  return ex;
}

async function startHelpers(helpers: StartedHelper[]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WasmKernelError("worker_failed", `helpers not ready in ${HELPER_START_TIMEOUT_MS} ms`)),
      HELPER_START_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([Promise.all(helpers.map((h) => h.ready)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The wasm backend on a given platform. See index.ts for the environment-picking entry point.
 * Threads actually used can be fewer than asked (no shared memory, or a thread that may not block).
 */
export async function createWasmKernelsOn(platform: WasmPlatform, opts: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const asked = opts.threads ?? 1;
  checkThreads(asked);
  const memoryBytes = opts.memoryBytes ?? 1 << 20;
  if (!Number.isFinite(memoryBytes) || memoryBytes < 0 || memoryBytes > 2 ** 32) {
    throw new WasmKernelError("invalid_option", `memoryBytes must be in [0, 4 GiB], got ${memoryBytes}`);
  }
  const shared = platform.sharedMemory;
  const threads = shared && platform.canBlock ? asked : 1;
  const module = await platform.compile(shared ? "shared" : "single");
  const memory = createMemory(shared, Math.max(memoryBytes, RESERVED_LOW_BYTES + CTRL_BYTES));
  const ex = await instantiate(module, memory);
  const heap = new WasmHeap(memory, shared, RESERVED_LOW_BYTES);
  const ctrl = heap.alloc(CTRL_BYTES);

  const helpers: StartedHelper[] = [];
  try {
    for (let t = 1; t < threads; t++) {
      helpers.push(platform.spawn({ module, memory, ctrl, index: t, gen: 0, errOffset: ERR, doneOffset: DONE }));
    }
    await startHelpers(helpers);
  } catch (e) {
    for (const h of helpers) h.terminate();
    throw e instanceof WasmKernelError ? e : new WasmKernelError("worker_failed", String(e));
  }
  const team = new ThreadTeam(heap, ctrl, ex.runShare, helpers);
  return new WasmKernelsImpl(heap, team, ex.blockSize());
}

class WasmKernelsImpl implements WasmKernels {
  readonly backend = "wasm" as const;
  readonly threads: number;
  readonly sharedMemory: boolean;
  private readonly heap: WasmHeap;
  private readonly team: ThreadTeam;
  private readonly block: number;
  private partPtr = 0;
  private partCap = 0; // f64 slots
  private part: Float64Array;
  private disposed = false;

  constructor(heap: WasmHeap, team: ThreadTeam, block: number) {
    this.heap = heap;
    this.team = team;
    this.block = block;
    this.threads = team.threads;
    this.sharedMemory = heap.shared;
    this.part = new Float64Array(0);
    this.reservePartials(1 << 24);
    heap.onGrow(() => {
      this.part = heap.f64(this.partPtr, this.partCap);
    });
  }

  /** Room for two partial sums per block of an n-element vector (cgUpdate's interleaved pair). */
  private reservePartials(n: number): void {
    const need = 2 * Math.ceil(n / this.block);
    if (need <= this.partCap) return;
    const cap = Math.max(need, 2 * this.partCap);
    this.partPtr = this.heap.alloc(cap * 8);
    this.partCap = cap;
    this.part = this.heap.f64(this.partPtr, cap);
  }

  private live(): void {
    if (this.disposed) throw new WasmKernelError("disposed", "this wasm kernels instance was disposed");
  }

  private ptr(v: Float64Array, what: string): number {
    if (!this.heap.owns(v)) {
      throw new WasmKernelError("foreign_vector", `${what} is not a vector of this wasm instance (use vector(n))`);
    }
    return v.byteOffset;
  }

  private mat(a: KernelMatrix): WasmMatrix {
    if (!(a instanceof WasmMatrix) || a.owner !== this) {
      throw new SolverError("backend_mismatch", "matrix handle was not created by this wasm kernels instance");
    }
    return a;
  }

  /** Length check without allocation (this is on every kernel call's path). */
  private len(v: Float64Array, n: number, name: string): void {
    if (v.length !== n) throw new SolverError("dimension_mismatch", `${name} has length ${v.length}, expected ${n}`);
  }

  private distinct(a: Float64Array, b: Float64Array, what: string): void {
    if (a.byteOffset === b.byteOffset && a.length > 0) {
      throw new WasmKernelError("aliased_vectors", `${what} must be different vectors`);
    }
  }

  private blocks(n: number): number {
    return Math.ceil(n / this.block);
  }

  private vecThreads(n: number): number {
    return n >= PAR_MIN_ELEMENTS ? this.threads : 1;
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
    if (!Number.isInteger(n) || n < 0) throw new SolverError("invalid_option", `vector length must be a non-negative integer, got ${n}`);
    this.reservePartials(n);
    const ptr = this.heap.alloc(n * 8);
    return this.heap.issueF64(ptr, n);
  }

  matrix(a: CsrMatrix): KernelMatrix {
    this.live();
    const { rows, cols } = a;
    const nnz = nnzOf(a);
    if (a.rowPtr.length !== rows + 1 || a.colIdx.length < nnz || a.values.length < nnz) {
      throw new SolverError("dimension_mismatch", `CSR arrays do not match ${rows} rows and ${nnz} nonzeros`);
    }
    checkColumns(a, nnz);
    this.reservePartials(Math.max(rows, cols));
    // Non-shared memory cannot grow once vectors exist: make room now for a solver's worth of vectors.
    if (!this.heap.shared) {
      const bytes = 4 * (rows + 1) + 12 * nnz + 16 * 8 * Math.max(rows, cols) + 4 * 1024;
      this.heap.ensure(this.heap.usedBytes + bytes);
    }
    const rowPtr = this.heap.alloc(4 * (rows + 1));
    const colIdx = this.heap.alloc(4 * nnz);
    const values = this.heap.alloc(8 * nnz);
    this.heap.i32(rowPtr, rows + 1).set(a.rowPtr);
    this.heap.i32(colIdx, nnz).set(a.colIdx.subarray(0, nnz));
    this.heap.f64(values, nnz).set(a.values.subarray(0, nnz));
    const nt = nnz + rows >= PAR_MIN_MATRIX_WORK ? this.threads : 1;
    const split = rowSplits(a.rowPtr, rows, nt, this.block);
    const splits = this.heap.alloc(4 * split.length);
    this.heap.i32(splits, split.length).set(split);
    return new WasmMatrix(this, rows, cols, nnz, rowPtr, colIdx, values, splits, nt);
  }

  private matrixTask(op: typeof Op.spmv | typeof Op.spmvDot | typeof Op.residual, m: WasmMatrix): void {
    const t = this.team;
    t.task(op, m.rows, this.blocks(m.rows), m.splits, this.partPtr);
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
    this.team.run(m.nt);
  }

  spmvDot(a: KernelMatrix, p: Float64Array, q: Float64Array): number {
    this.live();
    const m = this.mat(a);
    if (m.rows !== m.cols) throw new SolverError("not_square", `spmvDot needs a square matrix, got ${m.rows}×${m.cols}`);
    this.len(p, m.rows, "p");
    this.len(q, m.rows, "q");
    this.distinct(p, q, "spmvDot p and q");
    this.matrixTask(Op.spmvDot, m);
    this.team.ptr(3, this.ptr(p, "p"));
    this.team.ptr(4, this.ptr(q, "q"));
    this.team.run(m.nt);
    return this.sumPartials(this.blocks(m.rows), 0, 1);
  }

  residual(a: KernelMatrix, x: Float64Array, b: Float64Array, r: Float64Array): number {
    this.live();
    const m = this.mat(a);
    this.len(x, m.cols, "x");
    this.len(b, m.rows, "b");
    this.len(r, m.rows, "r");
    this.distinct(x, r, "residual x and r");
    this.matrixTask(Op.residual, m);
    this.team.ptr(3, this.ptr(x, "x"));
    this.team.ptr(4, this.ptr(b, "b"));
    this.team.ptr(5, this.ptr(r, "r"));
    this.team.run(m.nt);
    return this.sumPartials(this.blocks(m.rows), 0, 1);
  }

  private vectorTask(op: typeof Op.dot | typeof Op.axpy | typeof Op.xpby | typeof Op.cgUpdate | typeof Op.triad, n: number): void {
    this.team.task(op, n, this.blocks(n), 0, this.partPtr);
  }

  dot(x: Float64Array, y: Float64Array): number {
    this.live();
    const n = x.length;
    this.len(y, n, "y");
    if (n === 0) return 0;
    this.vectorTask(Op.dot, n);
    this.team.ptr(0, this.ptr(x, "x"));
    this.team.ptr(1, this.ptr(y, "y"));
    this.team.run(this.vecThreads(n));
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
    this.team.run(this.vecThreads(n));
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
    this.team.run(this.vecThreads(n));
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
    this.team.run(this.vecThreads(n));
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
    this.team.run(this.vecThreads(n));
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

/** Column indices outside [0, cols) would read arbitrary wasm memory: refuse them at the door. */
function checkColumns(a: CsrMatrix, nnz: number): void {
  const { colIdx, rowPtr, cols, rows } = a;
  if (rowPtr[0] !== 0) throw new SolverError("dimension_mismatch", "rowPtr[0] must be 0");
  for (let i = 0; i < rows; i++) {
    if (rowPtr[i + 1]! < rowPtr[i]!) throw new SolverError("dimension_mismatch", `rowPtr decreases at row ${i}`);
  }
  for (let k = 0; k < nnz; k++) {
    const c = colIdx[k]!;
    if (c < 0 || c >= cols) throw new SolverError("dimension_mismatch", `column index ${c} at position ${k} is outside [0, ${cols})`);
  }
}
