/**
 * The WebGPU solver's other methods and layouts in a real browser: BiCGSTAB on nonsymmetric matrices, the
 * hybrid's honest failure, a matrix split into row blocks on a 2D dispatch grid, Jacobi and multicolor
 * Gauss–Seidel; each checked against the CPU and with its dispatch counts.
 */
import { expect, test } from "@playwright/test";
import { relativeResidual } from "../src/core/solver/certificate.ts";
import { poisson2d } from "../src/core/sparse/generators.ts";
import {
  checkSolve,
  cpuReference,
  expectOk,
  loadMatrix,
  openPage,
  rhsOnes,
  solveInPage,
} from "./support/webgpu-page-solve.ts";
import { useSolverServer } from "./support/webgpu-solver-server.ts";

const srv = useSolverServer();

test("BiCGSTAB on cage5 and bfwa62 (nonsymmetric)", async ({ browser }) => {
  const page = await openPage(browser, srv);
  for (const name of ["cage5", "bfwa62"]) {
    const a = loadMatrix(name);
    const b = rhsOnes(a);
    const ref = cpuReference(a, b);
    const r = expectOk(await solveInPage(srv, page, a, b, { method: "bicgstab", tol: 1e-8, maxIter: 5000 }));
    checkSolve(r, a, b, 1e-8, ref, 1e-6);
    expect(r.methodPath[0]).toContain("bicgstab");
    // 3 vector passes + 2 SpMVs + 3 scalar kernels: fewer fusions than CG, counted honestly.
    expect(r.dispatchesPerIteration).toBe(8);
    expect(r.readbacks).toBeLessThanOrEqual(Math.ceil(r.encodedIterations / 16) + r.outerIterations);
  }
  await page.close();
});

test("hybrid picks BiCGSTAB for west0479 and reports the failure honestly", async ({ browser }) => {
  const page = await openPage(browser, srv);
  const a = loadMatrix("west0479");
  const b = rhsOnes(a);
  const r = expectOk(await solveInPage(srv, page, a, b, { method: "hybrid", tol: 1e-8, maxIter: 3000 }));
  expect(r.methodPath[0]).toContain("bicgstab");
  expect(r.converged).toBe(false);
  expect(["diverged", "breakdown", "stagnated", "max_iterations"]).toContain(r.reason);
  // The residual reported is that of the x returned, and it is the truth.
  const independent = relativeResidual(a, Float64Array.from(r.x), b);
  expect(independent).toBeGreaterThan(1e-8);
  expect(Math.abs(independent - r.relResidual)).toBeLessThanOrEqual(1e-9 + 1e-6 * independent);
  await page.close();
});

test("a matrix split into row blocks, on a 2D dispatch grid, gives the same answer", async ({ browser }) => {
  const page = await openPage(browser, srv);
  const a = poisson2d(64);
  const b = rhsOnes(a);
  const whole = expectOk(await solveInPage(srv, page, a, b, { method: "cg", tol: 1e-8, maxIter: 5000 }));
  // 16 KiB bindings: ≤ 4096 nonzeros per block, so 20 224 nonzeros need 5 blocks. 2 rows per invocation
  // make 32 workgroups of a full vector pass, more than the 8 allowed per dimension: a 2D grid (8 × 4).
  const device = { maxBindingBytes: 16 * 1024, maxWorkgroupsPerDimension: 8, rowsPerInvocation: 2 };
  const split = expectOk(
    await solveInPage(srv, page, a, b, { method: "cg", tol: 1e-8, maxIter: 5000 }, device),
  );
  expect(split.rowBlocks).toBe(5);
  checkSolve(split, a, b, 1e-8, Float64Array.from(whole.x), 1e-5);
  // One SpMV dispatch per block: 2 + blocks per iteration, counted.
  expect(split.dispatchesPerIteration).toBe(2 + split.rowBlocks);
  // Same iteration in a different order of summation: the same number of iterations within a few.
  expect(Math.abs(split.iterations - whole.iterations)).toBeLessThanOrEqual(0.1 * whole.iterations);

  // BiCGSTAB and Gauss–Seidel run on the split matrix too (bfwa62 in 3 blocks).
  const nonsym = loadMatrix("bfwa62");
  const nb = rhsOnes(nonsym);
  const bicg = expectOk(
    await solveInPage(
      srv,
      page,
      nonsym,
      nb,
      { method: "bicgstab", tol: 1e-8, maxIter: 5000 },
      { maxBindingBytes: 800 },
    ),
  );
  expect(bicg.rowBlocks).toBeGreaterThanOrEqual(3);
  checkSolve(bicg, nonsym, nb, 1e-8, cpuReference(nonsym, nb), 1e-6);
  expect(bicg.dispatchesPerIteration).toBe(6 + 2 * bicg.rowBlocks);
  await page.close();
});

test("Jacobi and multicolor Gauss–Seidel iterations on the GPU", async ({ browser }) => {
  const page = await openPage(browser, srv);
  const a = poisson2d(24);
  const b = rhsOnes(a);
  const ref = cpuReference(a, b);
  const jac = expectOk(await solveInPage(srv, page, a, b, { method: "jacobi", tol: 1e-8, maxIter: 20_000 }));
  checkSolve(jac, a, b, 1e-8, ref, 1e-5);
  expect(jac.dispatchesPerIteration).toBe(1);
  const gs = expectOk(
    await solveInPage(
      srv,
      page,
      a,
      b,
      { method: "gauss_seidel", tol: 1e-8, maxIter: 20_000 },
      { maxBindingBytes: 4096 },
    ),
  );
  checkSolve(gs, a, b, 1e-8, ref, 1e-5);
  expect(gs.methodPath[0]).toContain("2 colors"); // red-black ordering of the 5-point stencil
  // One dispatch per (color, row block) per sweep.
  expect(gs.rowBlocks).toBeGreaterThanOrEqual(2);
  expect(gs.dispatchesPerIteration).toBe(2 * gs.rowBlocks);
  // Gauss–Seidel needs about half the sweeps of Jacobi on this matrix.
  expect(gs.iterations).toBeLessThan(0.75 * jac.iterations);
  await page.close();
});
