/// <reference lib="webworker" />
import type * as OrtWeb from "onnxruntime-web";
// ORT's binaries go through Vite as plain assets (hashed into dist/assets in a build, served from
// node_modules by `vite dev`) and ORT is told where they are: its own `new URL(..., import.meta.url)` guess
// breaks once Vite pre-bundles the package in dev. Giving the .mjs too makes ORT load its pthread glue
// from that file (not from the bundle it sits in) when numThreads > 1.
import asyncifyMjsUrl from "onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url";
import asyncifyWasmUrl from "onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url";
import wasmMjsUrl from "onnxruntime-web/ort-wasm-simd-threaded.mjs?url";
import wasmUrl from "onnxruntime-web/ort-wasm-simd-threaded.wasm?url";
import type { ExecutionProvider } from "../../src/core/protocol/manifest.ts";
import type {
  GraphOptimization,
  RuntimeSession,
  SessionRuntime,
} from "../../src/core/experts/models/index.ts";
import { PROBE_MODEL } from "./probe-model.ts";

type Ort = typeof OrtWeb;

/**
 * onnxruntime-web inside the expert worker. Each provider gets the smallest ORT build that has it, loaded
 * on first use: `onnxruntime-web/wasm` (CPU kernels only, ~14 MB of wasm) for int8 models, and
 * `onnxruntime-web/webgpu` (the asyncify build with the WebGPU EP, ~27 MB) only when a session wants the
 * GPU. Each build is its own module with its own wasm instance, so a worker that hosts both pays for both.
 * Proxy off (this IS the worker), threads as configured (1 by default: the solver shares the cores).
 */
export class OrtWebRuntime implements SessionRuntime {
  private readonly builds = new Map<ExecutionProvider, Promise<Ort>>();
  private adapter: Promise<GPUAdapter | null> | null = null;
  private readonly probes: OrtWeb.InferenceSession[] = [];

  constructor(private readonly numThreads: number) {}

  /** Providers whose build was started. */
  started(): ExecutionProvider[] {
    return [...this.builds.keys()];
  }

  prepare(provider: ExecutionProvider): Promise<void> {
    return this.build(provider).then(() => undefined);
  }

  async createSession(
    bytes: Uint8Array,
    provider: ExecutionProvider,
    optimization: GraphOptimization,
  ): Promise<RuntimeSession> {
    const ort = await this.build(provider);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [provider],
      graphOptimizationLevel: optimization,
    });
    return {
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      async run(inputName, data, dims) {
        const results = await session.run({ [inputName]: new ort.Tensor("float32", data, dims) });
        const out: Record<string, { data: unknown }> = {};
        for (const [name, value] of Object.entries(results)) {
          out[name] = { data: value.data };
          value.dispose();
        }
        return out;
      },
      release: () => session.release(),
    };
  }

  async webgpuAvailable(): Promise<boolean> {
    return (await this.gpuAdapter()) !== null;
  }

  /** The adapter's architecture ("swiftshader" on these CI machines), or null without WebGPU. */
  async adapterArchitecture(): Promise<string | null> {
    const adapter = await this.gpuAdapter();
    return adapter ? adapter.info.architecture || adapter.info.vendor || "unknown" : null;
  }

  private gpuAdapter(): Promise<GPUAdapter | null> {
    this.adapter ??= (async () => {
      const gpu = (self.navigator as WorkerNavigator & { gpu?: GPU }).gpu;
      if (!gpu) return null;
      return gpu.requestAdapter().catch(() => null);
    })();
    return this.adapter;
  }

  private build(provider: ExecutionProvider): Promise<Ort> {
    let build = this.builds.get(provider);
    if (!build) {
      build = this.startBuild(provider);
      this.builds.set(provider, build);
      build.catch(() => this.builds.delete(provider)); // a failed start may be retried by a later load
    }
    return build;
  }

  private async startBuild(provider: ExecutionProvider): Promise<Ort> {
    const ort: Ort =
      provider === "webgpu" ? await import("onnxruntime-web/webgpu") : await import("onnxruntime-web/wasm");
    ort.env.wasm.proxy = false;
    ort.env.wasm.numThreads = self.crossOriginIsolated ? this.numThreads : 1;
    ort.env.wasm.wasmPaths =
      provider === "webgpu"
        ? { wasm: asyncifyWasmUrl, mjs: asyncifyMjsUrl }
        : { wasm: wasmUrl, mjs: wasmMjsUrl };
    ort.env.logLevel = "error";
    if (provider === "webgpu") {
      const adapter = await this.gpuAdapter();
      if (!adapter) throw new Error("no WebGPU adapter");
      ort.env.webgpu.adapter = adapter;
    }
    // A tiny known-good model: starts the wasm (and the GPU device) now, so a runtime that cannot start is
    // reported as such and never blamed on the model being loaded. It stays open: releasing the last
    // webgpu session destroys ORT's device, and the next session would have to create another.
    this.probes.push(await ort.InferenceSession.create(PROBE_MODEL, { executionProviders: [provider] }));
    return ort;
  }
}
