import { WebGpuSolverError } from "./errors.ts";
import { dispatchGrid } from "./partition.ts";

/** Work the GPU was asked to do, counted where it is encoded (the e2e test asserts these). */
export interface GpuCounters {
  /** dispatchWorkgroups calls in total. */
  dispatches: number;
  /** Of which inside the per-iteration loop (excludes one-off setup passes and convergence checks). */
  loopDispatches: number;
  /** mapAsync round trips (each one stalls the CPU until the GPU has drained the queue up to it). */
  readbacks: number;
  /** queue.submit calls. */
  submits: number;
}

export type DispatchPhase = "setup" | "loop" | "check";

export interface GpuLimitsUsed {
  /** Largest storage binding (and storage buffer) the solver will create, in bytes. */
  readonly maxBindingBytes: number;
  /** The device's maxBufferSize (bounds the staging buffer, which is not a binding). */
  readonly maxBufferBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
  /**
   * Not a device limit but a tuning choice: rows per kernel invocation, fixed by the caller or, when
   * null, chosen per matrix (see rowsPerInvocationFor).
   */
  readonly rowsPerInvocation: number | null;
  /** SwiftShader or another CPU fallback: timings mean nothing, barriers are expensive. */
  readonly softwareAdapter: boolean;
}

export interface AdapterSummary {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
}

/**
 * One GPU device plus what every kernel needs from it: counted dispatches, cached pipelines, buffers
 * created under an error scope, and a clear error once the device is lost.
 */
export class GpuContext {
  readonly counters: GpuCounters = { dispatches: 0, loopDispatches: 0, readbacks: 0, submits: 0 };
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private lostMessage: string | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly limits: GpuLimitsUsed,
    readonly adapter: AdapterSummary,
    onLost?: (message: string) => void,
  ) {
    void device.lost.then((info) => {
      this.lostMessage = `device lost (${info.reason}): ${info.message || "no message"}`;
      onLost?.(this.lostMessage);
    });
  }

  get isLost(): boolean {
    return this.lostMessage !== null;
  }

  /** Throws device_lost if the device is gone: call before encoding anything. */
  assertAlive(): void {
    if (this.lostMessage !== null) throw new WebGpuSolverError("device_lost", this.lostMessage);
  }

  /** Turns a failure of a GPU promise into device_lost (when that is why) or gpu_error. */
  async wrapGpuFailure(e: unknown, what: string): Promise<WebGpuSolverError> {
    // device.lost resolves in a later task than the rejection it causes: give it one turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (this.lostMessage !== null)
      return new WebGpuSolverError("device_lost", this.lostMessage, { cause: e });
    const msg = e instanceof Error ? e.message : String(e);
    return new WebGpuSolverError("gpu_error", `${what} failed: ${msg}`, { cause: e });
  }

  /**
   * Runs `fn` (buffer/bind-group creation) under validation and out-of-memory error scopes, so a failure
   * becomes a gpu_error naming `what` instead of an uncaptured console message.
   */
  async scoped<T>(what: string, fn: () => T): Promise<T> {
    this.assertAlive();
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: fn() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    // Scopes are popped even when fn threw, or later errors would land in the wrong scope.
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (!outcome.ok) throw outcome.error;
    const error = oom ?? validation;
    if (error !== null) throw new WebGpuSolverError("gpu_error", `${what}: ${error.message}`);
    return outcome.value;
  }

  /** Compiles (once per distinct source) a compute pipeline, reporting WGSL errors with their messages. */
  async pipeline(code: string, entryPoint: string): Promise<GPUComputePipeline> {
    const key = `${entryPoint}\u0000${code}`;
    const cached = this.pipelines.get(key);
    if (cached !== undefined) return cached;
    this.assertAlive();
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code });
    const pipeline = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint } });
    const error = await this.device.popErrorScope();
    if (error !== null) {
      const info = await module.getCompilationInfo();
      const lines = info.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`).join("; ");
      throw new WebGpuSolverError("gpu_error", `pipeline ${entryPoint}: ${error.message} ${lines}`);
    }
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  /** A storage buffer initialised from `data` (padded to at least 4 bytes: zero-size bindings are invalid). */
  storage(label: string, data: Float32Array | Uint32Array | number, extraUsage = 0): GPUBuffer {
    const bytes = typeof data === "number" ? data : data.byteLength;
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    if (size > this.limits.maxBindingBytes) {
      throw new WebGpuSolverError(
        "matrix_too_large",
        `${label} needs ${size} bytes; one binding holds at most ${this.limits.maxBindingBytes}`,
      );
    }
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage;
    const buffer = this.device.createBuffer({ label, size, usage });
    if (typeof data !== "number" && data.byteLength > 0) this.write(buffer, data);
    return buffer;
  }

  uniform(label: string, words: Uint32Array): GPUBuffer {
    const buffer = this.device.createBuffer({
      label,
      size: Math.max(16, words.byteLength),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.write(buffer, words);
    return buffer;
  }

  /** queue.writeBuffer of a typed array; a view of shared memory (wasm threads) is copied first. */
  write(buffer: GPUBuffer, data: Float32Array | Uint32Array | ArrayBuffer, offsetBytes = 0): void {
    if (data instanceof ArrayBuffer) {
      this.device.queue.writeBuffer(buffer, offsetBytes, data);
      return;
    }
    const own = data.buffer instanceof ArrayBuffer ? (data as Float32Array<ArrayBuffer>) : data.slice();
    this.device.queue.writeBuffer(buffer, offsetBytes, own as Float32Array<ArrayBuffer>);
  }

  bindGroup(pipeline: GPUComputePipeline, buffers: readonly GPUBuffer[]): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /** Encodes one counted dispatch of `workgroups` linear workgroups (2D grid when over the per-dimension cap). */
  dispatch(
    pass: GPUComputePassEncoder,
    pipeline: GPUComputePipeline,
    group: GPUBindGroup,
    workgroups: number,
    phase: DispatchPhase,
  ): void {
    const [x, y] = dispatchGrid(workgroups, this.limits.maxWorkgroupsPerDimension);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y);
    this.counters.dispatches++;
    if (phase === "loop") this.counters.loopDispatches++;
  }

  submit(encoder: GPUCommandEncoder): void {
    this.assertAlive();
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
  }

  /** Maps `staging` for reading (one counted readback) and copies out `bytes` bytes. */
  async readStaging(staging: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.counters.readbacks++;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      throw await this.wrapGpuFailure(e, "reading results back (mapAsync)");
    }
    const copy = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    return copy;
  }

  destroy(): void {
    // Known at once: device.lost resolves only in a later task, and a solve may already be waiting.
    this.lostMessage ??= "device lost (destroyed): destroy() was called on the solver";
    this.pipelines.clear();
    this.device.destroy();
  }
}
