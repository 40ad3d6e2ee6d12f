import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { verifySolveResult } from "../../src/core/jobs/verify.ts";

/**
 * Times the product's own verification (verifySolveResult: the f64 residual check the requester runs on
 * every solution) on exactly the A, b and downloaded x of the run, in Node (the same V8 as Chromium).
 * Median of `repeats` timings per vector, after one untimed warm-up call.
 */
export function timeVerification(
  a: CsrMatrix,
  bs: readonly Float64Array[],
  xs: readonly Float64Array[],
  tol: number,
  repeats = 5,
): { totalMs: number; perSolutionMs: number[]; allPassed: boolean } {
  const perSolutionMs: number[] = [];
  let allPassed = true;
  for (let i = 0; i < xs.length; i++) {
    allPassed = verifySolveResult(a, bs[i]!, xs[i]!, tol).ok && allPassed;
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      verifySolveResult(a, bs[i]!, xs[i]!, tol);
      times.push(performance.now() - t0);
    }
    times.sort((p, q) => p - q);
    perSolutionMs.push(times[Math.floor(times.length / 2)]!);
  }
  return { totalMs: perSolutionMs.reduce((s, t) => s + t, 0), perSolutionMs, allPassed };
}
