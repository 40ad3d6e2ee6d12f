/**
 * One inner iteration on the GPU. Implementations encode their passes into a compute pass; the driver
 * (run.ts) batches iterations, reads the header back every k iterations and decides when to stop.
 */
export interface InnerMethod {
  /** e.g. "cg+jacobi", for SolveResult.methodPath. */
  readonly label: string;
  /** True when the GPU itself detects convergence/breakdown and freezes (CG, BiCGSTAB). */
  readonly gpuStops: boolean;
  /** Dispatches one iteration encodes (the test asserts the measured ratio against this). */
  readonly dispatchesPerIteration: number;
  readonly flopsPerIteration: number;
  /** Bytes of GPU memory this method holds (matrix, vectors, state): IterationUpdate.memory_bytes. */
  readonly workingSetBytes: number;
  /** The buffer whose header the driver reads back. */
  readonly state: GPUBuffer;
  /** Starts a new inner solve of A d = rhs from d = 0. */
  reset(rhs: Float32Array, rr0: number, tol2: number): void;
  /** Encodes `count` iterations; `first` marks the first batch after reset (setup passes go there). */
  encodeIterations(pass: GPUComputePassEncoder, count: number, first: boolean): void;
  /** Encodes what makes the header's RR current at a readback (stationary methods); may be a no-op. */
  encodeCheck(pass: GPUComputePassEncoder): void;
  /** The buffer that holds the current iterate d. */
  currentX(): GPUBuffer;
  destroy(): void;
}
