import { describe, expect, it } from "vitest";
import { createProgressLine } from "../../../src/cli/progress.ts";
import type { IterationUpdate } from "../../../src/core/solver/types.ts";

function update(iteration: number, residual: number): IterationUpdate {
  return {
    type: "iteration_update",
    method: "cg+jacobi",
    iteration,
    residual_norm: residual,
    convergence_rate: 0.95,
    performance: { iteration_time_ms: 1, flops: 0, memory_bytes: 0 },
  };
}

describe("progress line", () => {
  it("stays silent for short solves, then redraws at most every 100 ms and erases itself", () => {
    let t = 0;
    const written: string[] = [];
    const line = createProgressLine(
      { write: (s: string) => written.push(s), isTTY: true, columns: 200 },
      () => t,
    );
    t = 100;
    line.onUpdate(update(10, 1e-2));
    expect(written).toEqual([]);
    t = 400;
    line.onUpdate(update(20, 1e-3));
    t = 450;
    line.onUpdate(update(30, 1e-4)); // within 100 ms of the last draw: skipped
    t = 520;
    line.onUpdate(update(40, 1e-5));
    expect(written).toEqual([
      "\r\x1b[2Kcg+jacobi  iter 20  residual 1.00e-3  rate 0.9500/iter  0.4s",
      "\r\x1b[2Kcg+jacobi  iter 40  residual 1.00e-5  rate 0.9500/iter  0.5s",
    ]);
    line.finish();
    expect(written[written.length - 1]).toBe("\r\x1b[2K");
  });

  it("truncates to the terminal width and writes nothing on finish if it never drew", () => {
    let t = 1000;
    const written: string[] = [];
    const quiet = createProgressLine({ write: (s: string) => written.push(s), isTTY: true }, () => t);
    quiet.finish();
    expect(written).toEqual([]);
    const narrow = createProgressLine(
      { write: (s: string) => written.push(s), isTTY: true, columns: 20 },
      () => t,
    );
    t = 2000;
    narrow.onUpdate(update(5, 0.5));
    expect(written[0]).toBe("\r\x1b[2Kcg+jacobi  iter 5  "); // 19 = columns - 1 characters
  });
});
