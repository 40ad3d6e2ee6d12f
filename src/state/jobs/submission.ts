import { z } from "zod";
import { JobError } from "../../core/protocol/job-errors.ts";
import type { SubmitInput } from "../../core/jobs/requester/index.ts";
import { MAX_MAX_ITER } from "../../core/protocol/jobs.ts";
import { METHOD_NAMES } from "../../core/protocol/solver-names.ts";
import { matrixFrom, randomRhs, rhsFrom } from "../../core/sparse/problem.ts";
import type { JobSubmission } from "./types.ts";

/** Right-hand sides one submission may ask for (each becomes at least part of a unit). */
export const MAX_SUBMITTED_RHS = 4096;

const methodSchema = z.enum(METHOD_NAMES);

/** What the UI (or a test through the hook) submits, checked before anything is parsed. */
export const jobSubmissionSchema = z.object({
  name: z.string().min(1).max(200),
  kind: z.enum(["solve", "multi-rhs", "distributed-solve"]),
  matrix: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("matrix-market"), text: z.string().min(1) }),
    z.object({ kind: z.literal("generated"), name: z.string().min(1).max(64) }),
  ]),
  rhs: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("texts"), texts: z.array(z.string()).min(1).max(MAX_SUBMITTED_RHS) }),
    z.object({ kind: z.literal("ones") }),
    z.object({ kind: z.literal("random"), count: z.number().int().min(1).max(MAX_SUBMITTED_RHS) }),
  ]),
  method: methodSchema,
  tol: z.number().positive().max(1),
  maxIter: z.number().int().min(1).max(MAX_MAX_ITER),
  blocks: z.number().int().min(2).optional(),
});

/** Parses the submission's matrix and right-hand sides (the tab's main thread; a few ms per MB of text). */
export function submissionToInput(value: JobSubmission, random: () => number = Math.random): SubmitInput {
  const parsed = jobSubmissionSchema.safeParse(value);
  if (!parsed.success) {
    throw new JobError("invalid_spec", `submission: ${z.prettifyError(parsed.error).slice(0, 300)}`);
  }
  const s = parsed.data;
  const a = matrixFrom(s.matrix);
  let rhs: Float64Array[];
  if (s.rhs.kind === "ones") rhs = [rhsFrom(a, { kind: "ones" })];
  else if (s.rhs.kind === "random")
    rhs = Array.from({ length: s.rhs.count }, () => randomRhs(a.rows, random));
  else rhs = s.rhs.texts.map((text) => rhsFrom(a, { kind: "matrix-market", text }));
  return {
    name: s.name,
    kind: s.kind,
    a,
    rhs,
    method: s.method,
    tol: s.tol,
    maxIter: s.maxIter,
    ...(s.blocks !== undefined ? { blocks: s.blocks } : {}),
  };
}
