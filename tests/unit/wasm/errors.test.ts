import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SolverError } from "../../../src/core/solver/errors.ts";
import { createJsKernels } from "../../../src/core/solver/js-kernels.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { createWasmKernelsOn } from "../../../kernels/wasm/core.ts";
import { createWasmKernels, WasmKernelError } from "../../../kernels/wasm/index.ts";
import type { WasmKernels } from "../../../kernels/wasm/index.ts";
import type { WasmPlatform } from "../../../kernels/wasm/platform.ts";
import { loadNodePlatform } from "../../../kernels/wasm/platform-node.ts";
import { ensureWasmBuilt, randomCsr } from "./helpers.ts";

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof WasmKernelError || e instanceof SolverError) return e.code;
    throw e;
  }
  return undefined;
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WasmKernelError) return e.code;
    throw e;
  }
  return undefined;
}

beforeAll(() => ensureWasmBuilt());

describe("wasm kernels refuse bad calls with a specific code", () => {
  let k: WasmKernels;
  let other: WasmKernels;
  beforeAll(async () => {
    [k, other] = await Promise.all([createWasmKernels({ threads: 2 }), createWasmKernels({ threads: 1 })]);
  });
  afterAll(() => {
    k.dispose();
    other.dispose();
  });

  it("vectors that are not views of this instance's memory", () => {
    const x = k.vector(8);
    expect(codeOf(() => k.dot(x, new Float64Array(8)))).toBe("foreign_vector");
    expect(codeOf(() => k.dot(x, other.vector(8)))).toBe("foreign_vector");
  });

  it("matrix handles from another backend or instance", () => {
    const a = poisson2d(4);
    const x = k.vector(16);
    const y = k.vector(16);
    expect(codeOf(() => k.spmv(createJsKernels().matrix(a), x, y))).toBe("backend_mismatch");
    expect(codeOf(() => k.spmv(other.matrix(a), x, y))).toBe("backend_mismatch");
  });

  it("length mismatches, aliasing, non-square spmvDot, malformed CSR, bad sizes", () => {
    const ka = k.matrix(randomCsr(5, 7, 1));
    expect(codeOf(() => k.spmv(ka, k.vector(5), k.vector(5)))).toBe("dimension_mismatch");
    expect(codeOf(() => k.spmvDot(ka, k.vector(7), k.vector(5)))).toBe("not_square");
    const sq = k.matrix(poisson2d(3));
    const v = k.vector(9);
    expect(codeOf(() => k.spmv(sq, v, v))).toBe("aliased_vectors");
    expect(codeOf(() => k.axpy(1, k.vector(3), k.vector(4)))).toBe("dimension_mismatch");
    const bad = poisson2d(3);
    const colIdx = bad.colIdx.slice();
    colIdx[4] = 9; // column 9 in a 9-column matrix
    expect(codeOf(() => k.matrix({ ...bad, colIdx }))).toBe("dimension_mismatch");
    expect(codeOf(() => k.vector(-1))).toBe("invalid_option");
    expect(codeOf(() => k.vector(2.5))).toBe("invalid_option");
  });

  it("invalid thread counts and memory sizes", async () => {
    for (const threads of [0, 1.5, 65, Number.NaN]) {
      expect(await asyncCodeOf(createWasmKernels({ threads }))).toBe("invalid_option");
    }
    expect(await asyncCodeOf(createWasmKernels({ memoryBytes: -1 }))).toBe("invalid_option");
    expect(await asyncCodeOf(createWasmKernels({ memoryBytes: Number.NaN }))).toBe("invalid_option");
  });

  it("calls after dispose", async () => {
    const d = await createWasmKernels({ threads: 2 });
    const x = d.vector(4);
    d.dispose();
    d.dispose(); // idempotent
    expect(codeOf(() => d.dot(x, x))).toBe("disposed");
    expect(codeOf(() => d.vector(4))).toBe("disposed");
  });
});

describe("wasm kernels without shared memory or blocking (as on a page that is not crossOriginIsolated)", () => {
  let node: WasmPlatform;
  beforeAll(async () => {
    node = await loadNodePlatform();
  });

  it("runs single-threaded on non-shared memory and refuses to grow once vectors exist", async () => {
    const k = await createWasmKernelsOn(
      { ...node, sharedMemory: false },
      { threads: 2, memoryBytes: 1 << 20 },
    );
    expect(k.threads).toBe(1);
    expect(k.sharedMemory).toBe(false);
    // Matrix first: it reserves room for a solver's vectors, so this works.
    const a = poisson2d(64);
    const ka = k.matrix(a);
    const x = k.vector(a.rows);
    const y = k.vector(a.rows);
    x.fill(1);
    k.spmv(ka, x, y);
    expect(y[0]).toBe(2); // corner row of the 5-point Laplacian: 4 − 1 − 1
    expect(codeOf(() => k.vector(50_000_000))).toBe("memory_fixed");
    k.dispose();
  });

  it("starts large enough by default that solve() (vectors first, then the matrix) works", async () => {
    const k = await createWasmKernelsOn({ ...node, sharedMemory: false }, {});
    const a = poisson2d(200);
    const b = new Float64Array(a.rows).fill(1);
    const r = solve(a, b, { method: "cg", preconditioner: "jacobi", tol: 1e-8, maxIter: 2000 }, k);
    expect(r.converged).toBe(true);
    expect(r.backend).toBe("wasm");
    k.dispose();
  });

  it("a thread that may not block (browser main thread) gets 1 thread", async () => {
    const k = await createWasmKernelsOn({ ...node, canBlock: false }, { threads: 2 });
    expect(k.threads).toBe(1);
    k.dispose();
  });
});

describe("helper thread failures (fault injection)", () => {
  it("a helper that fails to start rejects creation with worker_failed", async () => {
    const node = await loadNodePlatform();
    let terminated = 0;
    const faulty: WasmPlatform = {
      ...node,
      spawn: () => {
        const ready = Promise.reject(new Error("injected start failure"));
        ready.catch(() => undefined);
        return { ready, terminate: () => void terminated++ };
      },
    };
    expect(await asyncCodeOf(createWasmKernelsOn(faulty, { threads: 3 }))).toBe("worker_failed");
    expect(terminated).toBe(2);
  });

  it("a helper that traps mid-kernel is reported, and the instance refuses further work", async () => {
    const k = await createWasmKernels({ threads: 2 });
    const n = 1 << 16;
    const x = k.vector(n);
    const y = k.vector(n);
    // Injected fault: a task whose second vector lies past the end of memory, and a caller that stalls
    // 50 ms before taking chunks, so the helper claims them and traps.
    type TeamInternals = {
      vectorTask: (op: number, n: number, nb: number, part: number) => void;
      ptr: (slot: number, p: number) => void;
      run: (parallel: boolean) => void;
      runChunks: (ctrl: number) => void;
    };
    const team = (k as unknown as { team: TeamInternals }).team;
    const realRunChunks = team.runChunks;
    team.runChunks = (ctrl) => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      realRunChunks(ctrl);
    };
    team.vectorTask(4 /* dot */, n, n / 4096, 0);
    team.ptr(0, x.byteOffset);
    team.ptr(1, 0x7fff_0000);
    expect(() => team.run(true)).toThrow(WasmKernelError);
    team.runChunks = realRunChunks;
    expect(codeOf(() => k.dot(x, y))).toBe("worker_failed");
    k.dispose();
  });
});
