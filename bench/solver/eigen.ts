import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { relativeResidual } from "../../src/core/solver/certificate.ts";
import type { Problem } from "./problems.ts";
import type { CpuBenchRow } from "./row.ts";
import type { RunConfig } from "./backends.ts";
import { gbps, spmvBytes, triadLengthFor } from "./timing.ts";

/**
 * The native reference: bench/eigen/cg_bench.cpp, compiled here with g++ -O3 -march=native -fopenmp
 * (cached in the OS temp dir by a hash of source and flags; never committed). Each run gets the matrix
 * as a binary CSR file in a temp dir and writes its solution back, which is certified on this side.
 */

const SOURCE = fileURLToPath(new URL("../eigen/cg_bench.cpp", import.meta.url));
const EIGEN_INCLUDE = "/usr/include/eigen3";
const FLAGS = ["-O3", "-march=native", "-DNDEBUG", "-fopenmp", `-I${EIGEN_INCLUDE}`];

export type EigenBuild = { ok: true; binary: string } | { ok: false; reason: string };

export async function buildEigen(): Promise<EigenBuild> {
  if (spawnSync("g++", ["--version"]).status !== 0) return { ok: false, reason: "g++ not found" };
  if (!existsSync(join(EIGEN_INCLUDE, "Eigen/Sparse")))
    return { ok: false, reason: `${EIGEN_INCLUDE} not found` };
  const source = await readFile(SOURCE);
  const hash = createHash("sha256").update(source).update(FLAGS.join(" ")).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `open-swarm-eigen-${hash}`);
  const binary = join(dir, "cg_bench");
  if (existsSync(binary)) return { ok: true, binary };
  await mkdir(dir, { recursive: true });
  const tmp = `${binary}.${process.pid}`;
  const r = spawnSync("g++", [...FLAGS, SOURCE, "-o", tmp], { encoding: "utf8" });
  if (r.status !== 0)
    return { ok: false, reason: `g++ failed: ${(r.stderr || r.error?.message || "").slice(0, 500)}` };
  await rm(binary, { force: true });
  await writeFile(binary, await readFile(tmp), { mode: 0o755 });
  await rm(tmp, { force: true });
  return { ok: true, binary };
}

const EigenOutput = z.object({
  spmv_ms: z.number().positive(),
  triad_ms: z.number().positive(),
  triad_ws_ms: z.number().positive(),
  cg_ms: z.number().nonnegative(),
  cg_iterations: z.number().int().nonnegative(),
  converged: z.boolean(),
  eigen_error: z.number(),
  threads: z.number().int().positive(),
});

function csrFile(p: Problem): Buffer {
  const { rows, cols, rowPtr, colIdx, values } = p.a;
  const header = Buffer.alloc(32);
  header.write("OSCSR1\0\0", 0, "latin1");
  header.writeBigInt64LE(BigInt(rows), 8);
  header.writeBigInt64LE(BigInt(cols), 16);
  header.writeBigInt64LE(BigInt(p.nnz), 24);
  return Buffer.concat([
    header,
    Buffer.from(rowPtr.buffer, rowPtr.byteOffset, 4 * (rows + 1)),
    Buffer.from(colIdx.buffer, colIdx.byteOffset, 4 * p.nnz),
    Buffer.from(values.buffer, values.byteOffset, 8 * p.nnz),
  ]);
}

export async function runEigen(
  binary: string,
  p: Problem,
  threads: number,
  cfg: RunConfig,
): Promise<CpuBenchRow> {
  const dir = await mkdtemp(join(tmpdir(), "open-swarm-eigen-run-"));
  try {
    const [m, rhs, xOut] = ["A.csr", "b.f64", "x.f64"].map((f) => join(dir, f)) as [string, string, string];
    await writeFile(m, csrFile(p));
    await writeFile(rhs, Buffer.from(p.b.buffer, p.b.byteOffset, 8 * p.n));
    const args = [m, rhs, xOut, String(cfg.tol), String(cfg.maxIter), String(cfg.reps), String(threads)];
    const r = spawnSync(binary, args, {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    });
    if (r.status !== 0) throw new Error(`eigen cg_bench failed (${r.status}): ${r.stderr}`);
    const out = EigenOutput.parse(JSON.parse(r.stdout));
    const xBytes = await readFile(xOut);
    const x = new Float64Array(xBytes.buffer.slice(xBytes.byteOffset, xBytes.byteOffset + 8 * p.n));
    const bytes = spmvBytes(p.n, p.nnz);
    // cg_bench.cpp sizes its second triad the same way (24·m = 12·nnz + 20·n): that one is the reference.
    const triadLength = triadLengthFor(bytes);
    return {
      problem: p.name,
      n: p.n,
      nnz: p.nnz,
      symmetric: p.symmetric,
      backend: "eigen",
      threads: out.threads,
      spmv_ms: out.spmv_ms,
      spmv_gbps: gbps(bytes, out.spmv_ms),
      triad_gbps: gbps(24 * triadLength, out.triad_ws_ms),
      triad_small_gbps: gbps(24 * p.n, out.triad_ms),
      triad_length: triadLength,
      // cg_bench.cpp times each kernel's calls back to back only.
      spmv_alternating_gbps: null,
      triad_alternating_gbps: null,
      cg_ms: out.cg_ms,
      cg_iterations: out.cg_iterations,
      cg_converged: out.converged,
      rel_residual: relativeResidual(p.a, x, p.b),
      solve_ms: null,
      solve_iterations: null,
      solve_converged: null,
      solve_rel_residual: null,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
