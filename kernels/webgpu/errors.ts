import { CodedError } from "../../src/core/base/coded-error.ts";

/**
 * Discriminated errors of the WebGPU solver backend. A solve that merely fails to converge is NOT an error
 * (it returns converged:false with the residual reached); these are for "cannot run here" and bad input.
 */
export type WebGpuSolverErrorCode =
  /** navigator.gpu is missing (no WebGPU, or not a secure context) or no adapter was granted. */
  | "webgpu_unavailable"
  /** The GPU device was lost (driver reset, tab backgrounded, destroy()) before or during a solve. */
  | "device_lost"
  /** A WebGPU validation / out-of-memory error, or a shader that failed to compile. */
  | "gpu_error"
  /** The matrix or a vector does not fit the device's buffer/binding limits even after row splitting. */
  | "matrix_too_large"
  /** A CSR matrix, right-hand side or option that breaks the documented contract. */
  | "invalid_input"
  /** A method or preconditioner this backend does not run on the GPU (use a CPU backend). */
  | "unsupported_method"
  /** Jacobi / Gauss–Seidel iterations need a nonzero diagonal. */
  | "zero_diagonal";

export class WebGpuSolverError extends CodedError<WebGpuSolverErrorCode> {
  override readonly name = "WebGpuSolverError";

  constructor(code: WebGpuSolverErrorCode, message: string, options?: ErrorOptions) {
    super(code, `${code}: ${message}`, options);
  }
}

export function isWebGpuSolverError(e: unknown): e is WebGpuSolverError {
  return e instanceof WebGpuSolverError;
}
