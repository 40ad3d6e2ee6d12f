import { afterEach, describe, expect, it } from "vitest";
import type { Kernels } from "../../../src/core/solver/kernels.ts";
import { MULTI_THREAD_MIN_NNZ, pickKernels, wasmThreadsFor } from "../../../kernels/pick-kernels.ts";

describe("pickKernels", () => {
  const open: Kernels[] = [];
  afterEach(() => {
    for (const k of open.splice(0)) k.dispose();
  });

  it("gives wasm every core from the threshold on, one thread below it", () => {
    expect(wasmThreadsFor(MULTI_THREAD_MIN_NNZ - 1, 4)).toBe(1);
    expect(wasmThreadsFor(MULTI_THREAD_MIN_NNZ, 4)).toBe(4);
  });

  it("obeys js, and picks wasm by matrix size on auto with the cores the caller passes", async () => {
    const js = await pickKernels({ choice: "js", threads: undefined, nnz: 10, cores: 2 });
    open.push(js.kernels);
    expect(js.kernels.backend).toBe("js");
    expect(js.notes).toEqual(["backend: js (f64 reference)"]);

    const small = await pickKernels({ choice: "auto", threads: undefined, nnz: 10, cores: 2 });
    open.push(small.kernels);
    expect([small.kernels.backend, small.kernels.threads]).toEqual(["wasm", 1]);
    expect(small.notes).toEqual(["backend: wasm, 1 thread"]);
    expect(small.wasmUnavailable).toBeNull();

    const big = await pickKernels({
      choice: "wasm",
      threads: undefined,
      nnz: MULTI_THREAD_MIN_NNZ,
      cores: 2,
    });
    open.push(big.kernels);
    expect([big.kernels.backend, big.kernels.threads]).toEqual(["wasm", 2]);

    const asked = await pickKernels({ choice: "auto", threads: 1, nnz: MULTI_THREAD_MIN_NNZ, cores: 2 });
    open.push(asked.kernels);
    expect(asked.kernels.threads).toBe(1);
  });
});
