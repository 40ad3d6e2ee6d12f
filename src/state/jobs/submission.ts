import { z } from "zod";
import { seededRandom } from "../../core/base/seeded-random.ts";
import { JobError } from "../../core/protocol/job-errors.ts";
import type { SubmitInput } from "../../core/jobs/requester/index.ts";
import { MAX_MAX_ITER } from "../../core/protocol/jobs.ts";
import { METHOD_NAMES } from "../../core/protocol/solver-names.ts";
import { InputError } from "../../core/sparse/errors.ts";
import { matrixFrom, randomRhs, rhsFrom } from "../../core/sparse/problem.ts";
import { submissionIssueText } from "./submission-errors.ts";
import type { JobSubmission } from "./types.ts";

/** Right-hand sides one submission may ask for (each becomes at least part of a unit). */
export const MAX_SUBMITTED_RHS = 4096;

const methodSchema = z.enum(METHOD_NAMES);

/** What the UI (or a test through the hook) submits, checked before anything is parsed. */
export const jobSubmissionSchema = z.object({
  name: z.string().min(1).max(200),
  kind: z.enum(["solve", "multi-rhs", "distributed-solve"]),
  matrix: z.discriminatedUnion("kind", [
    // Whitespace only is as empty as "" (the regex stops at the first non-space character).
    z.object({ kind: z.literal("matrix-market"), text: z.string().regex(/\S/) }),
    z.object({ kind: z.literal("generated"), name: z.string().min(1).max(64) }),
  ]),
  rhs: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("texts"),
      texts: z.array(z.string().regex(/\S/)).min(1).max(MAX_SUBMITTED_RHS),
    }),
    z.object({ kind: z.literal("ones") }),
    z.object({
      kind: z.literal("random"),
      count: z.number().int().min(1).max(MAX_SUBMITTED_RHS),
      seed: z.number().int().min(0).max(0xffff_ffff).optional(),
    }),
  ]),
  method: methodSchema,
  tol: z.number().positive().max(1),
  maxIter: z.number().int().min(1).max(MAX_MAX_ITER),
  blocks: z.number().int().min(2).optional(),
});

/** Which input a parse error is about, in front of the parser's own sentence ("line 3: …"). */
function inFile<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InputError && error.code !== "unknown_example")
      throw new InputError(error.code, `${what}: ${error.message}`, error.details);
    throw error;
  }
}

/**
 * Parses the submission's matrix and right-hand sides (the tab's main thread; a few ms per MB of text).
 * Every refusal is a coded error whose message names the input and says what is wrong with it. Random
 * right-hand sides are made from a seed (given, or drawn from `random`) that the job keeps and shows.
 */
export function submissionToInput(value: JobSubmission, random: () => number = Math.random): SubmitInput {
  const parsed = jobSubmissionSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const text =
      issue === undefined ? "the submission is not valid" : submissionIssueText(issue, MAX_SUBMITTED_RHS);
    throw new JobError("invalid_spec", text);
  }
  const s = parsed.data;
  const a = inFile("the matrix file", () => matrixFrom(s.matrix));
  let rhs: Float64Array[];
  let rhsSeed: number | undefined;
  if (s.rhs.kind === "ones") rhs = [rhsFrom(a, { kind: "ones" })];
  else if (s.rhs.kind === "random") {
    rhsSeed = s.rhs.seed ?? Math.floor(random() * 0x1_0000_0000);
    const rng = seededRandom(rhsSeed);
    rhs = Array.from({ length: s.rhs.count }, () => randomRhs(a.rows, rng));
  } else {
    const texts = s.rhs.texts;
    rhs = texts.map((text, i) =>
      inFile(texts.length > 1 ? `right-hand side file ${i + 1}` : "the right-hand side file", () =>
        rhsFrom(a, { kind: "matrix-market", text }),
      ),
    );
  }
  rhs.forEach((b, i) => {
    if (b.length !== a.rows) {
      const which = rhs.length > 1 ? `right-hand side ${i + 1}` : "b";
      throw new JobError("invalid_spec", `${which} has ${b.length} entries but A has ${a.rows} rows`);
    }
  });
  return {
    ...(rhsSeed === undefined ? {} : { rhsSeed }),
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
