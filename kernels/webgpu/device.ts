import { WebGpuSolverError } from "./errors.ts";
import { GpuContext, type GpuLimitsUsed } from "./gpu-context.ts";

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Caps the bytes of any one storage binding below the device's own limit. For tests: a small value forces
   * a matrix to be split into several row blocks, exactly as a huge matrix would be on a real device.
   */
  maxBindingBytes?: number;
  /** Caps workgroups per dispatch dimension below the device's limit (for tests: forces 2D dispatch grids). */
  maxWorkgroupsPerDimension?: number;
  /**
   * Rows each invocation of a row-parallel kernel handles (1..64). Default: chosen per matrix, see
   * rowsPerInvocationFor (8 on a software adapter; on hardware 1 unless n is very large).
   */
  rowsPerInvocation?: number;
  /** Called once if the device is lost (the next solve call fails with device_lost). */
  onDeviceLost?: (message: string) => void;
}

/** The storage buffers the widest kernel binds at once (CG's fused update, BiCGSTAB's x update). */
export const STORAGE_BUFFERS_NEEDED = 8;

const UNAVAILABLE_HINT =
  "WebGPU needs a secure context (https or http://localhost) in a browser with WebGPU enabled " +
  "(headless Chromium: --enable-unsafe-webgpu)";

/**
 * Gets an adapter and a device with the limits the solver uses raised to what the adapter allows (the
 * defaults, e.g. 128 MiB per storage binding, are far below what most GPUs can do).
 */
export async function acquireGpu(
  gpu: GPU | undefined | null,
  options: DeviceOptions = {},
): Promise<GpuContext> {
  if (gpu === undefined || gpu === null || typeof gpu.requestAdapter !== "function") {
    throw new WebGpuSolverError("webgpu_unavailable", `navigator.gpu is missing. ${UNAVAILABLE_HINT}`);
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(
      options.powerPreference === undefined ? undefined : { powerPreference: options.powerPreference },
    );
  } catch (e) {
    throw new WebGpuSolverError("webgpu_unavailable", `requestAdapter failed: ${String(e)}`, { cause: e });
  }
  if (adapter === null) {
    throw new WebGpuSolverError("webgpu_unavailable", `no WebGPU adapter was granted. ${UNAVAILABLE_HINT}`);
  }
  const al = adapter.limits;
  if (al.maxStorageBuffersPerShaderStage < STORAGE_BUFFERS_NEEDED) {
    throw new WebGpuSolverError(
      "webgpu_unavailable",
      `the adapter allows ${al.maxStorageBuffersPerShaderStage} storage buffers per stage; the solver needs ${STORAGE_BUFFERS_NEEDED}`,
    );
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
        maxBufferSize: al.maxBufferSize,
        maxStorageBuffersPerShaderStage: STORAGE_BUFFERS_NEEDED,
        maxComputeWorkgroupsPerDimension: al.maxComputeWorkgroupsPerDimension,
      },
    });
  } catch (e) {
    throw new WebGpuSolverError("webgpu_unavailable", `requestDevice failed: ${String(e)}`, { cause: e });
  }
  const dl = device.limits;
  const deviceBinding = Math.min(dl.maxStorageBufferBindingSize, dl.maxBufferSize);
  const limits: GpuLimitsUsed = {
    maxBindingBytes: floorTo4(Math.min(deviceBinding, options.maxBindingBytes ?? deviceBinding)),
    maxBufferBytes: dl.maxBufferSize,
    maxWorkgroupsPerDimension: Math.min(
      dl.maxComputeWorkgroupsPerDimension,
      options.maxWorkgroupsPerDimension ?? dl.maxComputeWorkgroupsPerDimension,
    ),
    maxStorageBuffersPerShaderStage: dl.maxStorageBuffersPerShaderStage,
    rowsPerInvocation: options.rowsPerInvocation ?? null,
    softwareAdapter: isSoftwareAdapter(adapter),
  };
  const rpi = limits.rowsPerInvocation ?? 1;
  if (
    limits.maxBindingBytes < 8 ||
    limits.maxWorkgroupsPerDimension < 1 ||
    !Number.isInteger(rpi) ||
    rpi < 1 ||
    rpi > 64
  ) {
    device.destroy();
    throw new WebGpuSolverError(
      "invalid_input",
      "maxBindingBytes must be >= 8, maxWorkgroupsPerDimension >= 1 and rowsPerInvocation an integer in [1, 64]",
    );
  }
  const info = adapter.info;
  return new GpuContext(
    device,
    limits,
    { vendor: info.vendor, architecture: info.architecture, description: info.description },
    options.onDeviceLost,
  );
}

/** SwiftShader, llvmpipe/lavapipe, or whatever the browser itself flags as a fallback (CPU) adapter. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return (
    info.isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.architecture} ${info.description} ${info.device}`)
  );
}

function floorTo4(bytes: number): number {
  return Math.floor(bytes / 4) * 4;
}
