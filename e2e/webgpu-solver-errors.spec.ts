/**
 * How a WebGPU solve stops short: cancellation and iteration limits keep the residual reached, a device lost
 * mid-solve is a device_lost error, bad input and unsupported methods get specific error codes.
 */
import { expect, test } from "@playwright/test";
import { relativeResidual } from "../src/core/solver/certificate.ts";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { expectOk, openPage, rhsOnes, solveInPage } from "./support/webgpu-page-solve.ts";
import { useSolverServer } from "./support/webgpu-solver-server.ts";

const srv = useSolverServer();

test("cancellation and iteration limits stop the solve with the residual reached", async ({ browser }) => {
  const page = await openPage(browser, srv);
  const a = poisson2d(64); // about 180 iterations to converge
  const b = rhsOnes(a);
  const cancelled = expectOk(
    await solveInPage(srv, page, a, b, { method: "cg", tol: 1e-8, maxIter: 20_000, abortAtIteration: 40 }),
  );
  expect(cancelled.converged).toBe(false);
  expect(cancelled.reason).toBe("cancelled");
  expect(cancelled.iterations).toBeLessThan(100); // stopped at the readback after the abort
  expect(cancelled.relResidual).toBeCloseTo(relativeResidual(a, Float64Array.from(cancelled.x), b), 12);
  expect(cancelled.relResidual).toBeLessThan(1); // the progress made is kept and reported

  const limited = expectOk(await solveInPage(srv, page, a, b, { method: "cg", tol: 1e-8, maxIter: 100 }));
  expect(limited.converged).toBe(false);
  expect(limited.reason).toBe("max_iterations");
  expect(limited.encodedIterations).toBeLessThanOrEqual(100);
  expect(limited.relResidual).toBeGreaterThan(1e-8);
  await page.close();
});

test("a device lost mid-solve gives a device_lost error", async ({ browser }) => {
  const page = await openPage(browser, srv);
  const a = poisson2d(32);
  const r = await solveInPage(srv, page, a, rhsOnes(a), {
    method: "cg",
    tol: 1e-10,
    maxIter: 5000,
    destroyAtFirstUpdate: true,
  });
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.code).toBe("device_lost");
    expect(r.message).toMatch(/device lost/);
  }
  await page.close();
});

test("bad input and unsupported methods get specific error codes", async ({ browser }) => {
  const page = await openPage(browser, srv);
  const a = poisson2d(8);
  const b = rhsOnes(a);
  const gmres = await solveInPage(srv, page, a, b, { method: "gmres", tol: 1e-8, maxIter: 100 });
  expect(gmres).toMatchObject({ ok: false, code: "unsupported_method" });
  const shortB = await solveInPage(srv, page, a, b.subarray(1), { method: "cg", tol: 1e-8, maxIter: 100 });
  expect(shortB).toMatchObject({ ok: false, code: "invalid_input" });
  const badCol = { ...a, colIdx: Int32Array.from(a.colIdx, (c, k) => (k === 3 ? a.cols + 7 : c)) };
  expect(await solveInPage(srv, page, badCol, b, { method: "cg", tol: 1e-8, maxIter: 100 })).toMatchObject({
    ok: false,
    code: "invalid_input",
  });
  const rareChecks = await solveInPage(srv, page, a, b, {
    method: "cg",
    tol: 1e-8,
    maxIter: 100,
    checkEvery: 3,
  });
  expect(rareChecks).toMatchObject({ ok: false, code: "invalid_input" });
  await page.close();
});
