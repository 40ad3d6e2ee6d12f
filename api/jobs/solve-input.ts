import { seededRandom } from "../../src/core/base/seeded-random.ts";
import type { PreconditionerName } from "../../src/core/protocol/solver-names.ts";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import type { InputLimits } from "../../src/core/sparse/errors.ts";
import { randomRhs } from "../../src/core/sparse/problem.ts";
import { ApiError } from "../errors.ts";
import { parseSolveRequest } from "../request.ts";
import type { API_METHODS } from "../schemas.ts";
import type { SolveJobBody } from "./job-schemas.ts";

/** A solve job's system, checked: A (square, non-singular), every right-hand side, the options. */
export interface SolveJobInput {
  readonly a: CsrMatrix;
  readonly rhs: readonly Float64Array[];
  readonly method: (typeof API_METHODS)[number];
  readonly tol: number;
  readonly maxIter: number;
  readonly preconditioner: PreconditionerName | undefined;
  readonly distribute: number | undefined;
  /** random_rhs: the seed they came from (given, or drawn and returned so the caller can repeat it). */
  readonly rhsSeed: number | undefined;
  readonly swarmEnabled: boolean;
}

/**
 * A validated solve job body into its system. The matrix and the first right-hand side go through
 * solve_request's own checks (request.ts: one message naming every shape mismatch, non-finite entries,
 * singular rows); the other right-hand sides must have `rows` entries each (400 vector_length naming
 * which), and the answer must fit the results cap (413 too_large, before anything is computed).
 */
export function solveJobInput(
  body: SolveJobBody,
  limits: InputLimits,
  maxResultValues: number,
): SolveJobInput {
  const rows = body.matrix.rows;
  let rhsSeed: number | undefined;
  let vectors: ArrayLike<number>[];
  if (body.random_rhs !== undefined) {
    rhsSeed = body.seed ?? Math.floor(Math.random() * 0x7fff_ffff);
    const random = seededRandom(rhsSeed);
    // Bounded by maxRows before any allocation: the matrix check below would come too late for that.
    if (rows > limits.maxRows) vectors = [[]];
    else vectors = Array.from({ length: body.random_rhs }, () => randomRhs(rows, random));
  } else {
    vectors = body.rhs ?? [body.vector!];
  }
  // Named by position before the matrix is parsed: a ragged `rhs` is the caller's likeliest mistake.
  if (body.rhs !== undefined) {
    body.rhs.forEach((v, i) => {
      if (v.length !== rows) {
        throw new ApiError(
          400,
          "vector_length",
          `rhs.${i} has ${v.length} entries but rows = ${rows}`,
          `rhs.${i}`,
        );
      }
    });
  }
  const { tolerance, max_iterations, preconditioner, swarm_enabled } = body.options;
  const first = parseSolveRequest(
    {
      matrix: body.matrix,
      vector: Array.from(vectors[0]!),
      method: body.method,
      options: { tolerance, max_iterations, ...(preconditioner !== undefined ? { preconditioner } : {}) },
    },
    limits,
  );
  if (rows * vectors.length > maxResultValues) {
    throw new ApiError(
      413,
      "too_large",
      `${vectors.length} solutions of ${rows} entries are over the results limit of ${maxResultValues} numbers`,
      "rhs",
    );
  }
  return {
    a: first.a,
    rhs: [first.b, ...vectors.slice(1).map((v) => Float64Array.from(v))],
    method: body.method,
    tol: tolerance,
    maxIter: max_iterations,
    preconditioner,
    distribute: body.distribute,
    rhsSeed,
    swarmEnabled: swarm_enabled,
  };
}
