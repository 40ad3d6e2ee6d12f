import { describe, expect, it } from "vitest";
import { benchmarkDistributed } from "../../../src/core/distributed/benchmark.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { rhsOfOnes } from "./helpers.ts";

describe("benchmarkDistributed", () => {
  it("times single-process Jacobi-PCG and distributed PCG (k = 2) in the same run", async () => {
    const a = poisson2d(100);
    const r = await benchmarkDistributed(a, rhsOfOnes(a), 2);
    expect(r.singleConverged).toBe(true);
    expect(r.distributedConverged).toBe(true);
    expect(r.distributedRelResidual).toBeLessThanOrEqual(1e-8);
    // Block-Jacobi with Jacobi blocks is global Jacobi: same iteration count up to rounding.
    expect(Math.abs(r.distributedIterations - r.singleIterations)).toBeLessThanOrEqual(3);
    expect(r.singleMs).toBeGreaterThan(0);
    expect(r.speedup).toBeCloseTo(r.singleMs / r.distributedMs, 10);
    // k = 2 through the coordinator: 2 halo messages up, 2 down, 2 dots, 2 scalars.
    expect(r.messagesPerIteration).toBeGreaterThan(7.9);
    expect(r.messagesPerIteration).toBeLessThan(8.2);
    expect(r.bytesPerIteration).toBeGreaterThan(2 * 2 * 8 * 100);
    console.info(JSON.stringify(r));
  });
});
