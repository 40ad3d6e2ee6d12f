/**
 * POST /api/v1/jobs bodies (zod, validated at the boundary): one schema per `kind`, joined by a
 * discriminated union. A solve job's matrix is solve_request's (schemas.ts), so the same formats and the
 * same element checks (request.ts) apply. The caps are fixed here, not configured: the OpenAPI document
 * states them, and each keeps one body well under the server's body limit.
 */
import { z } from "zod";
import { PRECONDITIONER_NAMES } from "../../src/core/protocol/solver-names.ts";
import { API_METHODS, MAX_ITERATIONS_CAP, solveRequestSchema } from "../schemas.ts";

/** Right-hand sides of one job (`rhs` rows or `random_rhs`): one unit of work each on the swarm. */
export const MAX_JOB_RHS = 64;
/** Row blocks of a distributed solve (the requester's partition takes 2..64). */
export const MAX_DISTRIBUTE = 64;
/** Fashion-MNIST images: 28×28 = 784 floats per row, in [0, 1]. */
export const IMAGE_COLS = 784;
/** Images per classify job (2 000 rows of 784 numbers is ~10 MB of JSON). */
export const MAX_IMAGE_ROWS = 2_000;
/** An uploaded ONNX model, bytes (before base64). */
export const MAX_MODEL_BYTES = 16 * 1024 * 1024;
/** Input rows of one onnx job, and numbers in all of them together. */
export const MAX_MODEL_ROWS = 10_000;
export const MAX_MODEL_INPUT_VALUES = 2_000_000;

export const JOB_KINDS = ["solve", "classify", "onnx"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const finiteRow = z.array(z.number());

export const jobSolveOptionsSchema = z
  .object({
    tolerance: z.number().positive().max(1).default(1e-8),
    max_iterations: z.number().int().positive().max(MAX_ITERATIONS_CAP).default(10_000),
    preconditioner: z.enum(PRECONDITIONER_NAMES).optional(),
    /** false: always the server's threads, even with volunteers online. */
    swarm_enabled: z.boolean().default(true),
  })
  .strict();

export const solveJobSchema = z
  .object({
    kind: z.literal("solve"),
    matrix: solveRequestSchema.shape.matrix,
    /** One right-hand side (as solve_request's `vector`)... */
    vector: solveRequestSchema.shape.vector.optional(),
    /** ...or several, each of `rows` numbers... */
    rhs: z.array(finiteRow).min(1).max(MAX_JOB_RHS).optional(),
    /** ...or this many seeded random ones (entries uniform in [-1, 1)). */
    random_rhs: z.number().int().positive().max(MAX_JOB_RHS).optional(),
    seed: z.number().int().nonnegative().max(0x7fff_ffff).optional(),
    /** A distributed block solve over this many volunteers (one right-hand side). */
    distribute: z.number().int().min(2).max(MAX_DISTRIBUTE).optional(),
    method: z.enum(API_METHODS).default("cg"),
    options: jobSolveOptionsSchema.prefault({}),
  })
  .strict()
  .refine((b) => [b.vector, b.rhs, b.random_rhs].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of vector, rhs or random_rhs",
    path: ["rhs"],
  })
  .refine((b) => b.distribute === undefined || (b.rhs?.length ?? b.random_rhs ?? 1) === 1, {
    message: "a distributed solve takes one right-hand side: drop distribute to solve several as a batch",
    path: ["distribute"],
  });

export const classifyJobSchema = z
  .object({
    kind: z.literal("classify"),
    /** Images as rows of 784 floats in [0, 1] (28×28, row-major, as Fashion-MNIST's pixels / 255). */
    images: z
      .array(z.array(z.number().min(0).max(1)).length(IMAGE_COLS))
      .min(1)
      .max(MAX_IMAGE_ROWS),
  })
  .strict();

export const onnxJobSchema = z
  .object({
    kind: z.literal("onnx"),
    /** The ONNX model's bytes, base64. */
    model: z
      .base64()
      .min(4)
      .max(Math.ceil(MAX_MODEL_BYTES / 3) * 4),
    /** The batch: rows of `cols` numbers (the model's one input, [rows, cols]). */
    input: z.array(finiteRow).min(1).max(MAX_MODEL_ROWS),
    cols: z.number().int().positive().max(MAX_MODEL_INPUT_VALUES),
  })
  .strict()
  .refine((b) => b.input.every((row) => row.length === b.cols), {
    message: "every input row must have cols numbers",
    path: ["input"],
  })
  .refine((b) => b.input.length * b.cols <= MAX_MODEL_INPUT_VALUES, {
    message: `at most ${MAX_MODEL_INPUT_VALUES} input numbers in all`,
    path: ["input"],
  });

export const jobRequestSchema = z.discriminatedUnion("kind", [
  solveJobSchema,
  classifyJobSchema,
  onnxJobSchema,
]);

export type SolveJobBody = z.infer<typeof solveJobSchema>;
export type ClassifyJobBody = z.infer<typeof classifyJobSchema>;
export type OnnxJobBody = z.infer<typeof onnxJobSchema>;
