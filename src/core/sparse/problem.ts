import type { CsrMatrix } from "./csr.ts";
import { InputError } from "./errors.ts";
import { generateByName } from "./generators.ts";
import { parseMatrixMarket, parseMatrixMarketVector } from "./matrix-market.ts";
import { multiply, ones } from "./ops.ts";

/**
 * A problem A x = b as people choose it: the matrix from Matrix Market text (an upload, a file) or an example
 * generator's name, and b read from a Matrix Market vector or made as A·1. The CLI, the dashboard's job
 * submission and the solver worker all turn their choice into (A, b) here; reading files and bytes stays
 * with them.
 */
export type MatrixSource =
  | { readonly kind: "matrix-market"; readonly text: string }
  | { readonly kind: "generated"; readonly name: string };

/** "ones": b = A·1, so the exact solution is the all-ones vector (the usual test problem). */
export type RhsSource = { readonly kind: "ones" } | { readonly kind: "matrix-market"; readonly text: string };

export interface Problem {
  readonly a: CsrMatrix;
  readonly b: Float64Array;
  /** b = A·1: reports can say how far x is from the known answer. */
  readonly rhsIsAOnes: boolean;
}

/** Parses or generates A; an unknown example name is an InputError "unknown_example". */
export function matrixFrom(source: MatrixSource): CsrMatrix {
  if (source.kind === "matrix-market") return parseMatrixMarket(source.text);
  const a = generateByName(source.name);
  if (a === null) {
    throw new InputError("unknown_example", `unknown example "${source.name}"`, { name: source.name });
  }
  return a;
}

/** b for A. Its length is not checked here: the solver refuses a mismatch with its own code. */
export function rhsFrom(a: CsrMatrix, source: RhsSource): Float64Array {
  return source.kind === "ones" ? multiply(a, ones(a.cols)) : parseMatrixMarketVector(source.text);
}

export function problemFrom(matrix: MatrixSource, rhs: RhsSource): Problem {
  const a = matrixFrom(matrix);
  return { a, b: rhsFrom(a, rhs), rhsIsAOnes: rhs.kind === "ones" };
}

/** A right-hand side with entries uniform in [-1, 1) (several at once exercise a multi-rhs job). */
export function randomRhs(n: number, random: () => number): Float64Array {
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = random() * 2 - 1;
  return b;
}
