// The helper threads' loop: wait for the caller to bump GEN, run this thread's share, count DONE, repeat.
// Waiting spins first (the caller's next kernel call usually follows within microseconds, and a futex
// wake costs tens of microseconds), then sleeps in memory.atomic.wait32 so idle helpers cost no CPU.

import { DONE, GEN, OP, OP_EXIT } from "./layout";
import { runShare } from "./dispatch";

/** About 0.2–1 ms of polling before sleeping. */
const SPIN_LIMIT: i32 = 1 << 18;
const WAIT_SLICE_NS: i64 = 50_000_000;

export function workerLoop(ctrl: usize, t: i32, seenGen: i32): void {
  let seen = seenGen;
  while (true) {
    let g = atomic.load<i32>(ctrl + GEN);
    let spins: i32 = 0;
    while (g == seen) {
      if (spins < SPIN_LIMIT) {
        spins++;
      } else {
        // Finite sleeps: a terminating runtime interrupts code between waits, not inside one.
        memory.atomic.wait32(ctrl + GEN, seen, WAIT_SLICE_NS);
      }
      g = atomic.load<i32>(ctrl + GEN);
    }
    seen = g;
    // The seq-cst load of GEN above orders the caller's plain parameter writes before our reads.
    if (load<i32>(ctrl + OP) == OP_EXIT) return;
    runShare(ctrl, t);
    atomic.add<i32>(ctrl + DONE, 1);
    atomic.notify(ctrl + DONE, 1);
  }
}
