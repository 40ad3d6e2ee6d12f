import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { diagonal, isSymmetric } from "../../src/core/sparse/structure.ts";
import type { MethodName, SolveOptions } from "../../src/core/solver/types.ts";
import { WebGpuSolverError } from "./errors.ts";

/** The methods with GPU kernels, picked out of the solver's names (the switch below checks each one). */
export type GpuMethod = Extract<MethodName, "cg" | "bicgstab" | "jacobi" | "gauss_seidel">;

export interface MethodChoice {
  readonly method: GpuMethod;
  readonly jacobiPreconditioner: boolean;
  /** D⁻¹ in f32 (ones without a preconditioner; 1 for a zero diagonal under a Krylov method). */
  readonly dinv: Float32Array;
  readonly label: string;
}

/**
 * Maps the user's method to what runs on the GPU. "hybrid"/"auto" takes CG for a symmetric matrix with a
 * positive diagonal and BiCGSTAB otherwise. GMRES, direct, IC(0), ILU(0) and sequential Gauss–Seidel are
 * not GPU methods here: the CPU backends run them. `relaxation` ω scales the stationary updates (damped
 * Jacobi, SOR-like multicolor Gauss–Seidel).
 */
export function chooseMethod(
  a: CsrMatrix,
  options: Pick<SolveOptions, "method" | "preconditioner" | "relaxation" | "gsVariant">,
): MethodChoice {
  const { method, preconditioner } = options;
  if (preconditioner === "ic0" || preconditioner === "ilu0") {
    throw new WebGpuSolverError(
      "unsupported_method",
      `preconditioner ${preconditioner} has no GPU kernel; use the wasm or js backend`,
    );
  }
  let gm: GpuMethod;
  switch (method) {
    case "cg":
    case "bicgstab":
    case "jacobi":
    case "gauss_seidel":
      gm = method;
      break;
    case "hybrid":
    case "auto":
      gm = isSymmetric(a) && diagonal(a).every((d) => d > 0) ? "cg" : "bicgstab";
      break;
    default:
      throw new WebGpuSolverError(
        "unsupported_method",
        `method ${method} has no GPU kernel; use the wasm or js backend`,
      );
  }
  if (gm === "gauss_seidel" && options.gsVariant === "sequential") {
    throw new WebGpuSolverError(
      "unsupported_method",
      "the GPU runs multicolor Gauss–Seidel only (gsVariant: multicolor); sequential sweeps run on the CPU",
    );
  }
  const stationary = gm === "jacobi" || gm === "gauss_seidel";
  const omega = stationary ? (options.relaxation ?? 1) : 1;
  if (!(omega > 0 && omega < 2)) {
    throw new WebGpuSolverError("invalid_input", `relaxation must be in (0, 2), got ${omega}`);
  }
  const jacobiPreconditioner = stationary || preconditioner !== "none";
  const dinv = new Float32Array(a.rows).fill(1);
  if (jacobiPreconditioner) {
    const d = diagonal(a);
    for (let i = 0; i < a.rows; i++) {
      if (d[i] !== 0) dinv[i] = omega / d[i]!;
      else if (stationary)
        throw new WebGpuSolverError("zero_diagonal", `${gm} needs a nonzero diagonal; row ${i} has none`);
    }
  }
  const label = stationary
    ? `${gm}${omega === 1 ? "" : `(ω=${omega})`}`
    : `${gm}+${jacobiPreconditioner ? "jacobi" : "none"}`;
  return { method: gm, jacobiPreconditioner, dinv, label };
}
