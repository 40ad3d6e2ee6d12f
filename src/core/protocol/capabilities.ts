import { z } from "zod";

/**
 * What a peer measured about itself and announces in the directory. Self-reported: the server checks shape
 * and ranges only, and a requester trusts measured speed it observed itself over this.
 */
export const webGpuCapabilitiesSchema = z.object({
  architecture: z.string().max(64),
  vendor: z.string().max(64),
  maxStorageBufferBindingSize: z.number().int().nonnegative(),
  maxBufferSize: z.number().int().nonnegative(),
  maxComputeWorkgroupSizeX: z.number().int().nonnegative(),
  maxComputeInvocationsPerWorkgroup: z.number().int().nonnegative(),
  shaderF16: z.boolean(),
});

export const capabilitiesSchema = z.object({
  webgpu: webGpuCapabilitiesSchema.nullable(),
  wasm: z.object({ simd: z.boolean(), threads: z.boolean() }),
  hardwareConcurrency: z.number().int().min(1).max(1024),
  crossOriginIsolated: z.boolean(),
  /** Short CPU benchmark: effective SpMV throughput in MFLOP/s (2 flops per stored entry). */
  benchmarkMflops: z.number().nonnegative().max(1e7),
  /** Where the peer runs: a browser tab or a headless Node volunteer. */
  runtime: z.enum(["browser", "node"]),
  /** false: a requester that takes no work (`open-swarm submit`, the API's requester): recruiters and
   *  directory queries for `volunteers` leave it out, so no unit waits on a peer that will never run it.
   *  Absent: it volunteers (every tab does). */
  volunteer: z.boolean().optional(),
  /** Working on a unit for someone now (directory queries can ask for `notBusy`). Absent: not busy. */
  busy: z.boolean().optional(),
  /** Names of the experts this peer hosts (directory queries can ask for them). Absent: none. */
  experts: z.array(z.string().min(1).max(64)).max(32).optional(),
});

export type WebGpuCapabilities = z.infer<typeof webGpuCapabilitiesSchema>;
export type Capabilities = z.infer<typeof capabilitiesSchema>;
