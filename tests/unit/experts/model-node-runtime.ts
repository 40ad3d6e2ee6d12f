/**
 * The Node expert host's SessionRuntime (node/ort-session-runtime.ts, real onnxruntime-node) with test
 * switches, so SessionPool (the expert worker's logic) runs in Node tests with a real ONNX Runtime. "wasm" sessions are native CPU sessions here; "webgpu" sessions are CPU sessions too,
 * recorded as asked. Fault switches (named as such) let a test make the runtime refuse to start, refuse
 * webgpu sessions, or slow runs down; counters show what reached the runtime.
 */
import type { ExecutionProvider, ModelVariant } from "../../../src/core/protocol/manifest.ts";
import type {
  GraphOptimization,
  RuntimeSession,
  SessionRuntime,
} from "../../../src/core/experts/models/index.ts";
import { NodeOrtRuntime } from "../../../src/node/ort-session-runtime.ts";

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

  private readonly real = new NodeOrtRuntime();

  async createSession(
    bytes: Uint8Array,
    provider: ExecutionProvider,
    optimization: GraphOptimization,
    variant?: ModelVariant,
  ): Promise<RuntimeSession> {
    if (provider === "webgpu" && this.faultWebgpuSessionFails) {
      throw new Error("fault injected: webgpu session creation failed");
    }
    const session = await this.real.createSession(bytes, provider, optimization, variant);
    this.optimizations.push(optimization);
    this.created.push(provider);
    return {
      ...session,
      run: async (inputName, data, dims) => {
        this.runs++;
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          if (this.faultRunDelayMs > 0) await new Promise((r) => setTimeout(r, this.faultRunDelayMs));
          return await session.run(inputName, data, dims);
        } finally {
          this.inFlight--;
        }
      },
    };
  }
}
