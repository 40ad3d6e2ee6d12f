import type { CsrMatrix } from "../../sparse/csr.ts";
import { ilu0Preconditioner } from "../precond/ilu0.ts";
import { identityPreconditioner, jacobiPreconditioner } from "../precond/precond.ts";
import type { Preconditioner } from "../precond/precond.ts";
import type { PreconditionerName } from "../types.ts";
import { ic0Preconditioner } from "../precond/ic0.ts";

/** Builds the preconditioner a nonsymmetric Krylov method asked for; null when it cannot be built. */
export function buildPreconditioner(a: CsrMatrix, name: PreconditionerName): Preconditioner | null {
  switch (name) {
    case "none":
      return identityPreconditioner;
    case "jacobi":
      return jacobiPreconditioner(a);
    case "ilu0":
      return ilu0Preconditioner(a);
    case "ic0":
      return ic0Preconditioner(a);
  }
}

/** "bicgstab" for no preconditioner, else "bicgstab+ilu0" etc. */
export function labelWith(method: string, pre: Preconditioner | null, asked: PreconditionerName): string {
  if (asked === "none") return method;
  return `${method}+${pre?.name ?? asked}`;
}
