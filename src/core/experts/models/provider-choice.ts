import type { ExecutionProvider, ModelVariant } from "../../protocol/manifest.ts";

/**
 * Which onnxruntime-web execution provider a session gets. int8 graphs (DynamicQuantizeLinear /
 * MatMulInteger) run natively on `wasm` only: the `webgpu` provider lacks those integer kernels and falls
 * back to the CPU with copies. qdq and fp32 graphs are float MatMuls after DequantizeLinear,
 * which webgpu runs when an adapter exists. A model of unknown variant (bytes from a user) goes to wasm,
 * which runs every operator.
 */
export type ProviderPreference = "auto" | ExecutionProvider;

export interface ProviderChoice {
  readonly provider: ExecutionProvider;
  /** Why, for logs and the dashboard ("int8 runs natively on wasm", "forced", "no WebGPU adapter"). */
  readonly reason: string;
}

export function chooseProvider(
  variant: ModelVariant | undefined,
  preference: ProviderPreference,
  webgpuAvailable: boolean,
): ProviderChoice {
  if (preference === "wasm") return { provider: "wasm", reason: "forced to wasm" };
  if (preference === "webgpu") {
    return webgpuAvailable
      ? { provider: "webgpu", reason: "forced to webgpu" }
      : { provider: "wasm", reason: "webgpu was forced but no WebGPU adapter exists here" };
  }
  if (variant === undefined) return { provider: "wasm", reason: "unknown variant: wasm runs every operator" };
  if (variant === "int8") return { provider: "wasm", reason: "int8 integer ops run natively on wasm" };
  return webgpuAvailable
    ? { provider: "webgpu", reason: `${variant} float ops run on webgpu` }
    : { provider: "wasm", reason: `${variant} on wasm: no WebGPU adapter here` };
}
