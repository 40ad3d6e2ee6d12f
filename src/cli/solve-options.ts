import { InvalidArgumentError } from "commander";
import { METHOD_NAMES, type MethodName, type PreconditionerName } from "../core/protocol/solver-names.ts";
import type { CliBackend } from "./backend.ts";

/** A solver name as typed on the command line: kebab-case, e.g. "gauss-seidel" for gauss_seidel. */
type CliSpelling<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}-${CliSpelling<Tail>}`
  : S;

function cliSpelling<S extends string>(name: S): CliSpelling<S> {
  // replaceAll does at run time what CliSpelling spells out for the compiler.
  return name.replaceAll("_", "-") as CliSpelling<S>;
}

export type CliMethod = CliSpelling<MethodName>;

/** The solver's methods, in its order, spelled the command line's way. */
export const CLI_METHODS: readonly CliMethod[] = METHOD_NAMES.map(cliSpelling);

const METHOD_BY_CLI_SPELLING = new Map(METHOD_NAMES.map((name) => [cliSpelling(name), name] as const));

export const DEFAULT_TOL = 1e-8;
export const DEFAULT_MAX_ITER = 10_000;

export function toMethodName(m: CliMethod): MethodName {
  // "auto" is the documented alias of "hybrid": the CLI resolves it so reports name one method.
  if (m === "auto") return "hybrid";
  // Every CliMethod is a key: both come from METHOD_NAMES.
  return METHOD_BY_CLI_SPELLING.get(m)!;
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
