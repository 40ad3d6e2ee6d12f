import { WasmKernelError } from "./errors.ts";
import type { WasmHeap } from "./heap.ts";
import {
  CB,
  CTRL_BYTES,
  ERR,
  EXIT,
  GEN,
  HELPED,
  N,
  NB,
  NCHUNKS,
  NEXT,
  OP,
  P0,
  PART,
  ROWBLOCKS,
  S0,
  S1,
  STATE,
  STATE_COUNT,
  STATE_OPEN,
} from "./layout.ts";
import type { OpCode } from "./layout.ts";

/** A started helper thread, as the platform layer hands it back. */
export interface HelperThread {
  terminate(): void;
}

/** The module's `runChunks(ctrl)`: claims and runs chunks of the task in the control block until none
 *  are left; returns how many it ran. */
export type RunChunks = (ctrl: number) => number;

/** Vector blocks per chunk (a chunk is the unit threads claim): 2 × 4096 elements, a few µs to tens of
 *  µs of work — small enough to balance, large enough that the atomic claim costs nothing. Matrix ops
 *  claim one row block at a time (see rowBlocks in core.ts). */
const CHUNK_BLOCKS = 2;
/** How long the caller polls for joined helpers before sleeping in Atomics.wait. */
const CALLER_SPIN = 1 << 16;
/** Sleep slice while waiting: bounded, so a helper that died without reporting is noticed. */
const WAIT_SLICE_MS = 100;
const HELPER_DEADLINE_MS = 120_000;

const I = (byteOffset: number): number => byteOffset >> 2;

/**
 * The calling thread plus N−1 helpers sharing one wasm memory. For each kernel call the caller writes the
 * task into the control block, opens it (STATE) and bumps GEN; helpers that are awake join while it is
 * open, and everyone claims chunks until none are left. The caller then closes the task and waits only
 * for the helpers that joined. Work thus goes to whichever threads actually run: on a loaded machine
 * (a browser tab competing with others) a descheduled helper costs nothing instead of stalling the call.
 */
export class ThreadTeam {
  readonly ctrl: number;
  private readonly runChunks: RunChunks;
  private readonly helpers: readonly HelperThread[];
  private i32: Int32Array;
  private f64: Float64Array;
  private broken: string | null = null;

  constructor(heap: WasmHeap, ctrl: number, runChunks: RunChunks, helpers: readonly HelperThread[]) {
    this.ctrl = ctrl;
    this.runChunks = runChunks;
    this.helpers = helpers;
    this.i32 = heap.i32(ctrl, CTRL_BYTES / 4);
    this.f64 = heap.f64(ctrl, CTRL_BYTES / 8);
    // Non-shared memory detaches views when it grows; shared memory does not, but re-making is harmless.
    heap.onGrow(() => {
      this.i32 = heap.i32(ctrl, CTRL_BYTES / 4);
      this.f64 = heap.f64(ctrl, CTRL_BYTES / 8);
    });
  }

  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Chunks the helpers have run so far (wraps at 2³¹; for diagnostics and tests). */
  get helpedChunks(): number {
    return Atomics.load(this.i32, I(HELPED));
  }

  /** Writes a vector task header: `n` elements in `nb` blocks; `part`: partial sums. */
  vectorTask(op: OpCode, n: number, nb: number, part: number): void {
    const i = this.i32;
    i[I(OP)] = op;
    i[I(N)] = n;
    i[I(NB)] = nb;
    i[I(CB)] = CHUNK_BLOCKS;
    i[I(NCHUNKS)] = Math.ceil(nb / CHUNK_BLOCKS);
    i[I(PART)] = part;
  }

  /** Writes a matrix task header: `rows` rows in `nb` row blocks starting at i32 `rowBlocks[0..nb]`. */
  matrixTask(op: OpCode, rows: number, nb: number, rowBlocks: number, part: number): void {
    const i = this.i32;
    i[I(OP)] = op;
    i[I(N)] = rows;
    i[I(NB)] = nb;
    i[I(CB)] = 1;
    i[I(NCHUNKS)] = nb;
    i[I(PART)] = part;
    i[I(ROWBLOCKS)] = rowBlocks;
  }

  ptr(slot: number, bytePtr: number): void {
    this.i32[I(P0) + slot] = bytePtr;
  }

  scalars(s0: number, s1 = 0): void {
    this.f64[S0 >> 3] = s0;
    this.f64[S1 >> 3] = s1;
  }

  /** Runs the written task; `parallel` false keeps it on the caller (too small to be worth waking anyone). */
  run(parallel: boolean): void {
    if (this.broken !== null) throw new WasmKernelError("worker_failed", this.broken);
    const i = this.i32;
    i[I(NEXT)] = 0;
    if (!parallel || this.helpers.length === 0) {
      this.runChunks(this.ctrl);
      return;
    }
    const gen = (Atomics.load(i, I(GEN)) + 1) | 0;
    Atomics.store(i, I(STATE), ((gen & 0xffffff) << 8) | STATE_OPEN); // seq-cst: publishes the parameters
    Atomics.store(i, I(GEN), gen);
    Atomics.notify(i, I(GEN));
    try {
      this.runChunks(this.ctrl);
    } finally {
      // Even if our part trapped: close, and wait for joined helpers before the block is reused.
      this.closeAndWait();
    }
  }

  private closeAndWait(): void {
    const i = this.i32;
    for (;;) {
      const w = Atomics.load(i, I(STATE));
      if (Atomics.compareExchange(i, I(STATE), w, w & ~STATE_OPEN) === w) break;
    }
    let spins = 0;
    let waitedMs = 0;
    for (;;) {
      const w = Atomics.load(i, I(STATE));
      if ((w & STATE_COUNT) === 0) break;
      if (++spins < CALLER_SPIN) continue;
      if (Atomics.wait(i, I(STATE), w, WAIT_SLICE_MS) === "timed-out") {
        waitedMs += WAIT_SLICE_MS;
        if (waitedMs >= HELPER_DEADLINE_MS) {
          this.broken = `helper threads did not finish a task within ${HELPER_DEADLINE_MS} ms`;
          throw new WasmKernelError("worker_failed", this.broken);
        }
      }
    }
    if (Atomics.load(i, I(ERR)) !== 0) {
      this.broken = "a helper thread trapped while running a kernel";
      throw new WasmKernelError("worker_failed", this.broken);
    }
  }

  /** Tells helpers to leave their loop, then terminates them (covers a helper stuck or never started). */
  dispose(): void {
    if (this.helpers.length > 0) {
      const i = this.i32;
      Atomics.store(i, I(EXIT), 1);
      Atomics.add(i, I(GEN), 1);
      Atomics.notify(i, I(GEN));
    }
    for (const h of this.helpers) h.terminate();
    this.broken ??= "disposed";
  }
}
