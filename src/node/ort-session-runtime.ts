import * as ort from "onnxruntime-node";
import type { GraphOptimization, RuntimeSession, SessionRuntime } from "../core/experts/models/index.ts";
import type { ExecutionProvider, ModelVariant } from "../core/protocol/manifest.ts";

/**
 * The ORT binding of a Node expert host: core's SessionPool (the expert worker's logic: verified bytes,
 * input checks, warm-up) over onnxruntime-node instead of onnxruntime-web. Every session is a native CPU
 * session whatever provider the pool asks for (there is no WebGPU in Node here), so the pool's "wasm" means
 * "CPU" and a host announces its provider as "cpu".
 *
 * One optimisation differs from the browser's on purpose: at "all" onnxruntime-node fuses a qdq graph's
 * DequantizeLinear + MatMul into an int8 kernel that also quantizes the activations, which onnxruntime-web
 * does not do (logits then differ by up to 0.05, far past the float tolerance a requester checks a host
 * against: an honest Node host would be banned). qdq models therefore get "basic" here (as
 * node/ort-node-runner.ts, measured there); int8 and fp32 ones get what the pool asks.
 */
export class NodeOrtRuntime implements SessionRuntime {
  constructor(
    /** ORT's intra-op threads per session (1: the solver and the links share the cores). */
    private readonly intraOpThreads = 1,
  ) {}

  async prepare(_provider: ExecutionProvider): Promise<void> {
    // The native runtime is loaded with the module: nothing to start.
  }

  async webgpuAvailable(): Promise<boolean> {
    return false;
  }

  async createSession(
    bytes: Uint8Array,
    _provider: ExecutionProvider,
    optimization: GraphOptimization,
    variant?: ModelVariant,
  ): Promise<RuntimeSession> {
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: this.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: optimization === "all" && variant === "qdq" ? "basic" : optimization,
    });
    return {
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      async run(inputName, data, dims) {
        const results = await session.run({ [inputName]: new ort.Tensor("float32", data, [...dims]) });
        return Object.fromEntries(Object.entries(results).map(([name, t]) => [name, { data: t.data }]));
      },
      release: () => session.release(),
    };
  }
}
