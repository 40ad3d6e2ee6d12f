import { capabilitiesSchema, type Capabilities, type WebGpuCapabilities } from "../protocol/capabilities.ts";

/**
 * Measures what this peer can do, once at start-up. The environment comes in as a parameter (structural
 * types, no DOM lib), so the same code probes a tab, a worker or Node, and tests can inject a broken GPU.
 */

export interface GpuAdapterLike {
  readonly features: { has(name: string): boolean };
  readonly limits: {
    readonly maxStorageBufferBindingSize: number;
    readonly maxBufferSize: number;
    readonly maxComputeWorkgroupSizeX: number;
    readonly maxComputeInvocationsPerWorkgroup: number;
  };
  readonly info?: { readonly architecture?: string; readonly vendor?: string };
}

export interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: "high-performance" | "low-power";
  }): Promise<GpuAdapterLike | null>;
}

export interface ProbeEnvironment {
  gpu: GpuLike | null;
  wasm: { validate(bytes: Uint8Array<ArrayBuffer>): boolean } | null;
  hardwareConcurrency: number | null;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  runtime: "browser" | "node";
  nowMs(): number;
}

export interface ProbeOptions {
  /** Length of the SpMV micro-benchmark. */
  benchmarkMs?: number;
  /** requestAdapter can hang on broken drivers; treat that as "no WebGPU". */
  gpuTimeoutMs?: number;
}

export interface ProbeResult {
  readonly capabilities: Capabilities;
  /** Why a feature is reported absent, and what the benchmark measured: for logs and the dashboard. */
  readonly notes: readonly string[];
}

/** A module returning i8x16.popcnt(i8x16.splat(0)): valid only where WASM SIMD (v128) is supported. */
const WASM_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);
/** A module with a shared memory and an i32.atomic.load: valid only where WASM threads are supported. */
const WASM_THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254,
  16, 2, 0, 26, 11,
]);

/** Reads the probe environment from a global object (window, worker self, or Node's globalThis). */
export function probeEnvironmentFrom(global: unknown): ProbeEnvironment {
  const g = (global ?? {}) as {
    navigator?: { gpu?: GpuLike; hardwareConcurrency?: number };
    WebAssembly?: ProbeEnvironment["wasm"];
    crossOriginIsolated?: boolean;
    SharedArrayBuffer?: unknown;
    process?: { versions?: { node?: string } };
    document?: unknown;
    performance?: { now(): number };
  };
  const isNode = typeof g.process?.versions?.node === "string" && g.document === undefined;
  const performance = g.performance;
  return {
    gpu: g.navigator?.gpu ?? null,
    wasm: g.WebAssembly ?? null,
    hardwareConcurrency: g.navigator?.hardwareConcurrency ?? null,
    crossOriginIsolated: g.crossOriginIsolated === true,
    sharedArrayBuffer: typeof g.SharedArrayBuffer === "function",
    runtime: isNode ? "node" : "browser",
    nowMs: performance ? () => performance.now() : () => Date.now(),
  };
}

export async function probeCapabilities(
  env: ProbeEnvironment,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const notes: string[] = [];
  const webgpu = await probeWebGpu(env.gpu, options.gpuTimeoutMs ?? 5_000, notes);
  const simd = validates(env.wasm, WASM_SIMD_PROBE);
  // Threads also need SharedArrayBuffer, which browsers only give crossOriginIsolated pages.
  const threadsCompile = validates(env.wasm, WASM_THREADS_PROBE);
  const threadsUsable = env.runtime === "node" || env.crossOriginIsolated;
  const threads = threadsCompile && env.sharedArrayBuffer && threadsUsable;
  if (!env.wasm) notes.push("wasm: WebAssembly is not available");
  else {
    if (!simd) notes.push("wasm: SIMD probe module does not validate");
    if (!threadsCompile) notes.push("wasm: threads probe module does not validate");
    else if (!threads)
      notes.push(
        "wasm: threads compile, but SharedArrayBuffer is unavailable (page not crossOriginIsolated)",
      );
  }
  const cores = Math.max(1, Math.min(1024, Math.floor(env.hardwareConcurrency ?? 1)));
  if (env.hardwareConcurrency === null) notes.push("cpu: hardwareConcurrency unknown, assuming 1");
  const bench = benchmarkSpmv(env.nowMs, options.benchmarkMs ?? 100);
  notes.push(
    `benchmark: JS CSR SpMV, n=${bench.rows}, nnz=${bench.nnz}, ${bench.iterations} products in ${bench.elapsedMs.toFixed(1)} ms = ${bench.mflops.toFixed(0)} MFLOP/s`,
  );
  const capabilities = capabilitiesSchema.parse({
    webgpu,
    wasm: { simd, threads },
    hardwareConcurrency: cores,
    crossOriginIsolated: env.crossOriginIsolated,
    benchmarkMflops: Math.min(1e7, Math.round(bench.mflops * 10) / 10),
    runtime: env.runtime,
  });
  return { capabilities, notes };
}

function validates(wasm: ProbeEnvironment["wasm"], module: Uint8Array<ArrayBuffer>): boolean {
  try {
    return wasm?.validate(module) === true;
  } catch {
    return false;
  }
}

async function probeWebGpu(
  gpu: GpuLike | null,
  timeoutMs: number,
  notes: string[],
): Promise<WebGpuCapabilities | null> {
  if (!gpu) {
    notes.push("webgpu: navigator.gpu is not available");
    return null;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const adapter = await Promise.race([
      gpu.requestAdapter({ powerPreference: "high-performance" }),
      timeout,
    ]);
    if (adapter === "timeout") {
      notes.push(`webgpu: requestAdapter did not answer within ${timeoutMs} ms`);
      return null;
    }
    if (!adapter) {
      notes.push("webgpu: requestAdapter returned null (no usable adapter)");
      return null;
    }
    const limits = adapter.limits;
    return {
      architecture: (adapter.info?.architecture ?? "").slice(0, 64),
      vendor: (adapter.info?.vendor ?? "").slice(0, 64),
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      shaderF16: adapter.features.has("shader-f16"),
    };
  } catch (error) {
    notes.push(`webgpu: requestAdapter failed: ${String(error)}`);
    return null;
  } finally {
    clearTimeout(timer);
  }
}

export interface SpmvBenchmark {
  readonly rows: number;
  readonly nnz: number;
  readonly iterations: number;
  readonly elapsedMs: number;
  readonly mflops: number;
}

/**
 * y = A·x with A the 5-point Laplacian on a 256×256 grid in CSR (f64 values, i32 indices), repeated for
 * about `durationMs`. 2 flops per stored entry. A short, comparable score for ranking volunteers; the solver
 * benchmarks (bench/) measure real matrices and real kernels.
 */
export function benchmarkSpmv(nowMs: () => number, durationMs: number, gridSize = 256): SpmvBenchmark {
  const n = gridSize * gridSize;
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Int32Array(5 * n);
  const values = new Float64Array(5 * n);
  let nnz = 0;
  for (let i = 0; i < gridSize; i++) {
    for (let j = 0; j < gridSize; j++) {
      const row = i * gridSize + j;
      const push = (col: number, value: number): void => {
        colIdx[nnz] = col;
        values[nnz] = value;
        nnz++;
      };
      if (i > 0) push(row - gridSize, -1);
      if (j > 0) push(row - 1, -1);
      push(row, 4);
      if (j < gridSize - 1) push(row + 1, -1);
      if (i < gridSize - 1) push(row + gridSize, -1);
      rowPtr[row + 1] = nnz;
    }
  }
  const x = new Float64Array(n).fill(1);
  const y = new Float64Array(n);
  const spmv = (): void => {
    for (let row = 0; row < n; row++) {
      let sum = 0;
      for (let k = rowPtr[row]!; k < rowPtr[row + 1]!; k++) sum += values[k]! * x[colIdx[k]!]!;
      y[row] = sum;
    }
  };
  spmv(); // warm-up: let the JIT compile the loop before timing it
  spmv();
  let iterations = 0;
  const startMs = nowMs();
  let elapsedMs = 0;
  do {
    spmv();
    iterations++;
    elapsedMs = nowMs() - startMs;
  } while (elapsedMs < durationMs || iterations < 3);
  // Read the output so the products cannot be optimised away; the Laplacian times ones sums to the boundary.
  let checksum = 0;
  for (let row = 0; row < n; row++) checksum += y[row]!;
  if (!Number.isFinite(checksum)) throw new Error("SpMV benchmark produced a non-finite result");
  return {
    rows: n,
    nnz,
    iterations,
    elapsedMs,
    mflops: (2 * nnz * iterations) / (Math.max(elapsedMs, 1e-3) * 1e3),
  };
}
