/**
 * The solve API's request bodies (zod, validated at the boundary). The matrix is the project's JSON matrix
 * (protocol/solve-request.ts: csr = row_pointers + col_indices, csc = col_pointers + row_indices, coo =
 * row_indices + col_indices), with `nnz` optional (the length of `values`). Its elements are checked by
 * sparse/linear-system-request.ts, which names the field and position of the first bad one.
 */
import { z } from "zod";
import { matrixRequestSchema } from "../src/core/protocol/solve-request.ts";
import { PRECONDITIONER_NAMES } from "../src/core/protocol/solver-names.ts";

/** The seed's methods (no "auto": the API says what it means). */
export const API_METHODS = ["jacobi", "gauss_seidel", "cg", "bicgstab", "gmres", "direct", "hybrid"] as const;

/** Hard caps on what a caller may ask for, whatever the server's configured limits. */
export const MAX_ITERATIONS_CAP = 10_000_000;
export const MAX_X_PARTIAL = 1_000;
export const MAX_PROBES = 1_000;

const positiveFinite = z.number().positive().finite();

export const solveOptionsSchema = z
  .object({
    tolerance: positiveFinite.max(1).default(1e-8),
    max_iterations: z.number().int().positive().max(MAX_ITERATIONS_CAP).default(10_000),
    preconditioner: z.enum(PRECONDITIONER_NAMES).optional(),
    /** Iterations between two verification_result events (random-probe rows of the current iterate). */
    verification_interval: z.number().int().positive().max(MAX_ITERATIONS_CAP).default(100),
    /** Rows probed by each verification_result. */
    probe_count: z.number().int().positive().max(MAX_PROBES).default(16),
    /** Entries of x at the head of each iteration_update (x_partial). */
    x_partial_count: z.number().int().nonnegative().max(MAX_X_PARTIAL).default(10),
    /** true (default): a volunteer computes the session when one is online, else the server's threads;
     *  false: always the server's threads. Every event says where (api/swarm-solve.ts). */
    swarm_enabled: z.boolean().default(true),
    /** Keep solving when the client disconnects (status, verify, x and event replay stay available). */
    detach: z.boolean().default(false),
  })
  .strict();

export const solveRequestSchema = z
  .object({
    matrix: matrixRequestSchema.omit({ b: true }).extend({ nnz: matrixRequestSchema.shape.nnz.optional() }),
    vector: matrixRequestSchema.shape.data.shape.values,
    method: z.enum(API_METHODS).default("hybrid"),
    options: solveOptionsSchema.prefault({}),
  })
  .strict();

export type SolveRequestBody = z.infer<typeof solveRequestSchema>;
export type ApiSolveOptions = z.infer<typeof solveOptionsSchema>;

export const verifyRequestSchema = z
  .object({
    session_id: z.string().min(1).max(128),
    probe_count: z.number().int().positive().max(MAX_PROBES).default(100),
  })
  .strict();
