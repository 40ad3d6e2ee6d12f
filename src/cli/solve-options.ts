import { InvalidArgumentError } from "commander";
import type { MethodName, PreconditionerName } from "../core/solver/types.ts";
import type { CliBackend } from "./backend.ts";

/** Method names as typed on the command line (kebab-case), mapped to the solver's names. */
export const CLI_METHODS = [
  "hybrid",
  "auto",
  "jacobi",
  "gauss-seidel",
  "cg",
  "bicgstab",
  "gmres",
  "direct",
] as const;
export type CliMethod = (typeof CLI_METHODS)[number];

export const CLI_PRECONDITIONERS = [
  "none",
  "jacobi",
  "ic0",
  "ilu0",
] as const satisfies readonly PreconditionerName[];

export const DEFAULT_TOL = 1e-8;
export const DEFAULT_MAX_ITER = 10_000;

export function toMethodName(m: CliMethod): MethodName {
  // "auto" is the documented alias of "hybrid": the CLI resolves it so reports name one method.
  if (m === "auto") return "hybrid";
  if (m === "gauss-seidel") return "gauss_seidel";
  return m;
}

/** Options of `open-swarm solve` after commander has parsed and validated them. */
export interface SolveCliOptions {
  rhs?: string;
  method: CliMethod;
  tol: number;
  maxIter: number;
  backend?: CliBackend;
  threads?: number;
  out?: string;
  json: boolean;
  preconditioner?: PreconditionerName;
  restart?: number;
  /** Pre-ordering of the direct LU. */
  ordering?: "amd" | "rcm" | "natural";
  /** Matrix Market coordinate file of A entries to change after the first solve (then re-solve warm). */
  update?: string;
  /** Matrix Market file of b entries to change (coordinate n×1, or a full array). */
  updateRhs?: string;
  updateMode: UpdateMode;
  /** Also solve the updated system cold to count the iterations saved (--no-cold-compare turns it off). */
  coldCompare: boolean;
}

/** "set": an update file's value replaces the entry; "add": it is added to the entry. */
export const UPDATE_MODES = ["set", "add"] as const;
export type UpdateMode = (typeof UPDATE_MODES)[number];

export function parseTolerance(value: string): number {
  const v = Number(value);
  if (value.trim() === "" || !Number.isFinite(v) || v <= 0) {
    throw new InvalidArgumentError("expected a positive number such as 1e-8.");
  }
  return v;
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a positive integer.");
  }
  return Number(value);
}
