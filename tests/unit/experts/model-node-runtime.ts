/**
 * SessionRuntime over onnxruntime-node, so SessionPool (the expert worker's logic) runs in Node tests with a
 * real ONNX Runtime. "wasm" sessions are native CPU sessions here; "webgpu" sessions are CPU sessions too,
 * recorded as asked. Fault switches (named as such) let a test make the runtime refuse to start, refuse
 * webgpu sessions, or slow runs down; counters show what reached the runtime.
 */
import * as ort from "onnxruntime-node";
import type { ExecutionProvider } from "../../../src/core/protocol/manifest.ts";
import type {
  GraphOptimization,
  RuntimeSession,
  SessionRuntime,
} from "../../../src/core/experts/models/index.ts";

export class NodeTestRuntime implements SessionRuntime {
  /** Fault: prepare() rejects for these providers. */
  readonly faultPrepareFails = new Set<ExecutionProvider>();
  /** Fault: createSession(…, "webgpu") rejects. */
  faultWebgpuSessionFails = false;
  /** Fault: every run waits this long first (to observe serialisation). */
  faultRunDelayMs = 0;
  gpuAdapter = false;

  readonly created: ExecutionProvider[] = [];
  readonly optimizations: GraphOptimization[] = [];
  runs = 0;
  inFlight = 0;
  maxInFlight = 0;

  async prepare(provider: ExecutionProvider): Promise<void> {
    if (this.faultPrepareFails.has(provider)) throw new Error(`fault injected: ${provider} cannot start`);
  }

  async webgpuAvailable(): Promise<boolean> {
    return this.gpuAdapter;
  }

  async createSession(
    bytes: Uint8Array,
    provider: ExecutionProvider,
    optimization: GraphOptimization,
  ): Promise<RuntimeSession> {
    if (provider === "webgpu" && this.faultWebgpuSessionFails) {
      throw new Error("fault injected: webgpu session creation failed");
    }
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: optimization,
    });
    this.optimizations.push(optimization);
    this.created.push(provider);
    return {
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      run: async (inputName, data, dims) => {
        this.runs++;
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          if (this.faultRunDelayMs > 0) await new Promise((r) => setTimeout(r, this.faultRunDelayMs));
          const results = await session.run({ [inputName]: new ort.Tensor("float32", data, [...dims]) });
          return Object.fromEntries(Object.entries(results).map(([name, t]) => [name, { data: t.data }]));
        } finally {
          this.inFlight--;
        }
      },
      release: () => session.release(),
    };
  }
}
