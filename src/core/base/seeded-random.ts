/**
 * Deterministic pseudo-random numbers in [0, 1) (mulberry32): tests and benchmarks use it so that a failing
 * case or a benchmark input can be reproduced from its seed, and a job's random right-hand sides can be made
 * again from the seed the dashboard shows. Not for anything that must be unpredictable.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
