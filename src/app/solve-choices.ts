import { isMethodName, type MethodName } from "../core/protocol/solver-names.ts";

/** Generated examples (SuiteSparse files are not redistributed with the app: upload one instead). */
export const EXAMPLES = [
  { name: "poisson2d-100", label: "2D Poisson 100×100 (n = 10,000)" },
  { name: "poisson2d-300", label: "2D Poisson 300×300 (n = 90,000)" },
  { name: "poisson2d-1000", label: "2D Poisson 1000×1000 (n = 1,000,000)" },
  { name: "poisson3d-30", label: "3D Poisson 30³ (n = 27,000)" },
  { name: "poisson3d-100", label: "3D Poisson 100³ (n = 1,000,000)" },
] as const;

/**
 * Every method's label, in the order the forms offer them. Keyed by MethodName, so a new method does not
 * compile until it has a label here; null keeps one off the forms ("auto" is only an alias of "hybrid").
 */
const METHOD_LABELS: Readonly<Record<MethodName, string | null>> = {
  hybrid: "hybrid (inspects the matrix, adapts)",
  cg: "CG + Jacobi",
  bicgstab: "BiCGSTAB",
  gmres: "GMRES(30) + ILU(0)",
  jacobi: "Jacobi",
  gauss_seidel: "Gauss–Seidel",
  direct: "direct sparse LU",
  auto: null,
};

export const METHODS: readonly { value: MethodName; label: string }[] = Object.entries(METHOD_LABELS).flatMap(
  ([value, label]) => (isMethodName(value) && label !== null ? [{ value, label }] : []),
);

/** A large upload is read as text; V8 strings top out near 512 MiB, so refuse well before. */
export const MAX_UPLOAD_BYTES = 400 * 1024 * 1024;

/** Parses the tolerance and iteration fields shared by both solve forms; a message on bad input. */
export function parseSolveLimits(
  tol: string,
  maxIter: string,
): { ok: true; tol: number; maxIter: number } | { ok: false; message: string } {
  const tolValue = Number(tol);
  const maxIterValue = Number(maxIter);
  if (!(tolValue > 0 && tolValue < 1))
    return { ok: false, message: "tolerance must be a number between 0 and 1, e.g. 1e-8" };
  if (!Number.isInteger(maxIterValue) || maxIterValue < 1)
    return { ok: false, message: "max iterations must be a positive integer" };
  return { ok: true, tol: tolValue, maxIter: maxIterValue };
}
