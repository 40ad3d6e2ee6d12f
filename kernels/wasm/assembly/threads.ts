// The helper threads' loop. Wait for the caller to bump GEN (spinning first: the caller's next kernel
// call usually follows within microseconds and a futex wake costs tens of microseconds; then sleeping in
// finite slices so idle helpers cost no CPU and a terminating runtime can interrupt them). Then try to
// join the task: only while the caller holds it OPEN, counted in STATE so the caller waits for exactly
// the helpers that joined (a helper the OS has not scheduled yet is never waited for).

import { EXIT, GEN, HELPED, STATE, STATE_COUNT, STATE_OPEN } from "./layout";
import { runChunks } from "./dispatch";

/** Tens of µs of polling before sleeping: enough to catch the next kernel call of an iterative method
 *  (µs apart), short enough not to steal much CPU when the caller shares a core with us. */
const SPIN_LIMIT: i32 = 1 << 15;
const WAIT_SLICE_NS: i64 = 50_000_000;

/** Joins task `gen` if it is still open: increments the joined count. */
function join(ctrl: usize, gen: i32): bool {
  const tag = (gen & 0xffffff) << 8;
  let w = atomic.load<i32>(ctrl + STATE);
  while (true) {
    if ((w & ~0xff) != tag || (w & STATE_OPEN) == 0) return false;
    const seen = atomic.cmpxchg<i32>(ctrl + STATE, w, w + 1);
    if (seen == w) return true;
    w = seen;
  }
}

export function workerLoop(ctrl: usize, seenGen: i32): void {
  let seen = seenGen;
  while (true) {
    let g = atomic.load<i32>(ctrl + GEN);
    let spins: i32 = 0;
    while (g == seen) {
      if (spins < SPIN_LIMIT) {
        spins++;
      } else {
        memory.atomic.wait32(ctrl + GEN, seen, WAIT_SLICE_NS);
      }
      g = atomic.load<i32>(ctrl + GEN);
    }
    seen = g;
    if (atomic.load<i32>(ctrl + EXIT) != 0) return;
    if (!join(ctrl, g)) continue;
    atomic.add<i32>(ctrl + HELPED, runChunks(ctrl));
    const left = atomic.sub<i32>(ctrl + STATE, 1) - 1;
    if ((left & STATE_COUNT) == 0) atomic.notify(ctrl + STATE, 1);
  }
}
