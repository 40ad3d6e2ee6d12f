/**
 * The solver's vocabulary as it travels in job specs and requests: the one list of method and
 * preconditioner names, from which every type and check is derived (the CLI spells them with hyphens at its
 * own boundary only).
 */

/** Methods a user can ask for. "hybrid" (alias "auto") inspects the matrix and adapts (solver/methods/hybrid.ts). */
export const METHOD_NAMES = [
  "hybrid",
  "auto",
  "jacobi",
  "gauss_seidel",
  "cg",
  "bicgstab",
  "gmres",
  "direct",
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export const PRECONDITIONER_NAMES = ["none", "jacobi", "ic0", "ilu0"] as const;
export type PreconditionerName = (typeof PRECONDITIONER_NAMES)[number];

/** The compute backends a solve runs on (kernels/: wasm and webgpu; src/core/solver/js-kernels.ts: js). */
export const BACKEND_NAMES = ["js", "wasm", "webgpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === "string" && (METHOD_NAMES as readonly string[]).includes(value);
}
