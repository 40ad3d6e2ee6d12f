import { WasmKernelError } from "./errors.ts";
import type { WasmHeap } from "./heap.ts";
import { CTRL_BYTES, DONE, ERR, GEN, N, NB, NT, OP, Op, P0, PART, S0, S1, SPLITS } from "./layout.ts";
import type { OpCode } from "./layout.ts";

/** A started helper thread, as the platform layer hands it back. */
export interface HelperThread {
  terminate(): void;
}

/** The module's `runShare(ctrl, t)`: runs thread t's share of the task in the control block. */
export type RunShare = (ctrl: number, t: number) => void;

/** How long the caller polls for helpers before sleeping in Atomics.wait. Helpers finish their share
 *  at about the same time as the caller, so the poll nearly always wins. */
const CALLER_SPIN = 1 << 16;
/** Sleep slice while waiting: bounded, so a helper that died without reporting is noticed. */
const WAIT_SLICE_MS = 100;
const HELPER_DEADLINE_MS = 120_000;

/**
 * The calling thread plus N−1 helpers sharing one wasm memory. The caller writes a task into the control
 * block, bumps GEN (helpers are spinning or asleep on it), runs share 0 itself, then waits until DONE
 * counts every helper. One task at a time; the control block is reused.
 */
export class ThreadTeam {
  readonly ctrl: number;
  private readonly heap: WasmHeap;
  private readonly runShare: RunShare;
  private readonly helpers: readonly HelperThread[];
  private i32: Int32Array;
  private f64: Float64Array;
  private broken: string | null = null;

  constructor(heap: WasmHeap, ctrl: number, runShare: RunShare, helpers: readonly HelperThread[]) {
    this.heap = heap;
    this.ctrl = ctrl;
    this.runShare = runShare;
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

  /** Writes the task header. `splits` / `part` are byte pointers (0 when unused). */
  task(op: OpCode, n: number, nb: number, splits: number, part: number): void {
    const i = this.i32;
    i[OP >> 2] = op;
    i[N >> 2] = n;
    i[NB >> 2] = nb;
    i[SPLITS >> 2] = splits;
    i[PART >> 2] = part;
  }

  ptr(slot: number, bytePtr: number): void {
    this.i32[(P0 >> 2) + slot] = bytePtr;
  }

  scalars(s0: number, s1 = 0): void {
    this.f64[S0 >> 3] = s0;
    this.f64[S1 >> 3] = s1;
  }

  /** Runs the written task on `nt` threads (1 = the caller alone, no synchronisation at all). */
  run(nt: number): void {
    if (this.broken !== null) throw new WasmKernelError("worker_failed", this.broken);
    const i = this.i32;
    if (nt <= 1 || this.helpers.length === 0) {
      i[NT >> 2] = 1;
      this.runShare(this.ctrl, 0);
      return;
    }
    i[NT >> 2] = this.threads;
    Atomics.store(i, DONE >> 2, 0);
    Atomics.add(i, GEN >> 2, 1); // seq-cst: publishes the parameters written above
    Atomics.notify(i, GEN >> 2);
    try {
      this.runShare(this.ctrl, 0);
    } finally {
      // Even if our share trapped, wait: the next task must not overwrite the block under the helpers.
      this.waitHelpers();
    }
  }

  private waitHelpers(): void {
    const i = this.i32;
    const target = this.helpers.length;
    let spins = 0;
    let waitedMs = 0;
    for (;;) {
      const done = Atomics.load(i, DONE >> 2);
      if (done >= target) break;
      if (++spins < CALLER_SPIN) continue;
      if (Atomics.wait(i, DONE >> 2, done, WAIT_SLICE_MS) === "timed-out") {
        waitedMs += WAIT_SLICE_MS;
        if (waitedMs >= HELPER_DEADLINE_MS) {
          this.broken = `helper threads did not finish a task within ${HELPER_DEADLINE_MS} ms`;
          throw new WasmKernelError("worker_failed", this.broken);
        }
      }
    }
    if (Atomics.load(i, ERR >> 2) !== 0) {
      this.broken = "a helper thread trapped while running a kernel";
      throw new WasmKernelError("worker_failed", this.broken);
    }
  }

  /** Tells helpers to leave their loop, then terminates them (covers a helper stuck or never started). */
  dispose(): void {
    if (this.helpers.length > 0) {
      const i = this.i32;
      i[OP >> 2] = Op.exit;
      Atomics.add(i, GEN >> 2, 1);
      Atomics.notify(i, GEN >> 2);
    }
    for (const h of this.helpers) h.terminate();
    this.broken ??= "disposed";
  }

  markBroken(reason: string): void {
    this.broken ??= reason;
  }

  get heapRef(): WasmHeap {
    return this.heap;
  }
}
