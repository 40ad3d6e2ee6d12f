import { z } from "zod";
import type { RhsSolution } from "./rhs-solution.ts";
import { BACKEND_NAMES, METHOD_NAMES, PRECONDITIONER_NAMES } from "./solver-names.ts";
import { UNIT_ID_PATTERN } from "./ids.ts";

/**
 * What requester and volunteer say to each other about work units. These travel as signed bodies on the
 * peer channel (protocol/peer.ts): the integrator spreads each `*Shape` below into a
 * `z.strictObject({ ...signedBodyHeader, ...shape })` and adds it to `signedBodySchema`, so every
 * assignment, heartbeat and result is signed by its sender and addressed to its recipient.
 *
 * Big data (matrix, right-hand sides, solutions) never rides in these bodies: they carry content digests
 * (BlobRef) and the bytes travel as peer-protocol blobs, checked against the digest on arrival. A signed
 * result therefore commits to its solution vectors through their SHA-256.
 *
 * Every field is bounded, so a hostile peer cannot make a receiver allocate much by sending one body:
 * the largest valid body (MAX_RHS_PER_UNIT solutions with the longest method paths, about 120 KB) stays
 * below half the peer channel's 256 KiB body cap; a unit test checks that.
 */
export const JOB_PROTOCOL_VERSION = 1;

export const MAX_RHS_PER_UNIT = 256;
export const MAX_DETAIL_CHARS = 1024;
export const MAX_METHOD_PATH = 8;
export const MAX_METHOD_LABEL_CHARS = 32;
/** Inputs are addressed by digest and may be chunked by the transport; this bounds what a job may declare. */
export const MAX_BLOB_REF_BYTES = 2 ** 31;
export const MAX_MAX_ITER = 10_000_000;
export const MIN_HEARTBEAT_INTERVAL_MS = 100;
export const MAX_HEARTBEAT_INTERVAL_MS = 600_000;

const jv = z.literal(JOB_PROTOCOL_VERSION);
export const unitIdSchema = z.string().max(56).regex(UNIT_ID_PATTERN);
export const attemptSchema = z.number().int().min(1).max(1_000_000);
const timestampMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const finiteNonNegative = z.number().nonnegative().max(Number.MAX_VALUE);

export const blobRefSchema = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  byteLength: z.number().int().min(0).max(MAX_BLOB_REF_BYTES),
});

export const matrixRefSchema = blobRefSchema.extend({
  rows: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
  cols: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
  nnz: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
});

export const solveTaskSchema = z.strictObject({
  kind: z.literal("solve"),
  matrix: matrixRefSchema,
  rhs: z.array(blobRefSchema).min(1).max(MAX_RHS_PER_UNIT),
  method: z.enum(METHOD_NAMES),
  preconditioner: z.enum(PRECONDITIONER_NAMES).optional(),
  /** Relative residual target; the requester verifies against the same number. */
  tol: z.number().positive().max(1),
  maxIter: z.number().int().min(1).max(MAX_MAX_ITER),
  backend: z.enum(["cpu", "webgpu"]).optional(),
});

/** Only solves today; distributed row blocks add a task kind here. */
export const unitTaskSchema = z.discriminatedUnion("kind", [solveTaskSchema]);

/** Requester → volunteer: compute this unit, attempt `attempt`, before `deadlineMs`, heartbeating. */
export const unitAssignShape = {
  type: z.literal("unit-assign"),
  jv,
  unitId: unitIdSchema,
  attempt: attemptSchema,
  deadlineMs: timestampMs,
  heartbeatIntervalMs: z.number().int().min(MIN_HEARTBEAT_INTERVAL_MS).max(MAX_HEARTBEAT_INTERVAL_MS),
  task: unitTaskSchema,
};

/** Volunteer → requester: still alive and working on (unitId, attempt). Also send while fetching inputs. */
export const unitHeartbeatShape = {
  type: z.literal("unit-heartbeat"),
  jv,
  unitId: unitIdSchema,
  attempt: attemptSchema,
};

/** Volunteer → requester: progress for the dashboard; counts as a heartbeat too. */
export const unitProgressShape = {
  type: z.literal("unit-progress"),
  jv,
  unitId: unitIdSchema,
  attempt: attemptSchema,
  rhsDone: z.number().int().min(0).max(MAX_RHS_PER_UNIT),
  rhsTotal: z.number().int().min(1).max(MAX_RHS_PER_UNIT),
  iteration: z.number().int().min(0).max(MAX_MAX_ITER),
  /** The iteration's own residual estimate (not a certificate); null before the first update. */
  relResidual: finiteNonNegative.nullable(),
  backend: z.enum(BACKEND_NAMES),
};

/** A RhsSolution on the wire (rhs-solution.ts traces its path from the kernel). */
export const solutionSchema = z.strictObject({
  /** The solution vector, encoded by payload.ts `encodeVector`, sent as a blob. */
  x: blobRefSchema,
  converged: z.boolean(),
  iterations: z.number().int().min(0).max(MAX_MAX_ITER),
  /** The volunteer's own certificate; the requester recomputes it and trusts only its own. */
  relResidual: finiteNonNegative.nullable(),
  methodPath: z.array(z.string().max(MAX_METHOD_LABEL_CHARS)).max(MAX_METHOD_PATH),
}) satisfies z.ZodType<RhsSolution<z.infer<typeof blobRefSchema>>>;

/** Volunteer → requester: one solution per right-hand side of the unit, in order. */
export const unitResultShape = {
  type: z.literal("unit-result"),
  jv,
  unitId: unitIdSchema,
  attempt: attemptSchema,
  backend: z.enum(BACKEND_NAMES),
  /** Compute time as the volunteer measured it (the requester measures its own elapsed time too). */
  computeMs: finiteNonNegative,
  solutions: z.array(solutionSchema).min(1).max(MAX_RHS_PER_UNIT),
};

export const UNIT_ERROR_CODES = [
  /** The unit's inputs failed validation (payload.ts): the volunteer did not run it. */
  "invalid_input",
  "unsupported",
  "out_of_memory",
  "declined",
  "cancelled",
  "internal",
] as const;
export type UnitErrorCode = (typeof UNIT_ERROR_CODES)[number];

/** Volunteer → requester: this attempt will not produce a result, and why. */
export const unitErrorShape = {
  type: z.literal("unit-error"),
  jv,
  unitId: unitIdSchema,
  attempt: attemptSchema,
  code: z.enum(UNIT_ERROR_CODES),
  detail: z.string().max(MAX_DETAIL_CHARS),
};

export const CANCEL_REASONS = [
  "deadline-expired",
  "heartbeat-timeout",
  "stale-attempt",
  "job-cancelled",
  "volunteer-banned",
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** Requester → volunteer: stop working on (unitId, attempt); its result would be ignored. */
export const unitCancelShape = {
  type: z.literal("unit-cancel"),
  jv,
  unitId: unitIdSchema,
  attempt: attemptSchema,
  reason: z.enum(CANCEL_REASONS),
};

/** What the requester's own check concluded about a result (verify.ts): verified, a wrong answer, or a
 *  confirmed "did not converge". */
export const UNIT_VERDICTS = ["verified", "rejected", "not_converged"] as const;
export type UnitVerdictKind = (typeof UNIT_VERDICTS)[number];

/**
 * Requester → volunteer, optional, after verifying a result: what the check concluded, so the volunteer's
 * unit log can say "verified" (BOINC shows the same per task). Display only: a volunteer never trusts it
 * for anything (a requester may lie about its verdicts, or never send one), and it carries no reason text.
 */
export const unitVerdictShape = {
  type: z.literal("unit-verdict"),
  jv,
  unitId: unitIdSchema,
  attempt: attemptSchema,
  verdict: z.enum(UNIT_VERDICTS),
};

export const unitAssignSchema = z.strictObject(unitAssignShape);
export const unitHeartbeatSchema = z.strictObject(unitHeartbeatShape);
export const unitProgressSchema = z.strictObject(unitProgressShape);
export const unitResultSchema = z.strictObject(unitResultShape);
export const unitErrorSchema = z.strictObject(unitErrorShape);
export const unitCancelSchema = z.strictObject(unitCancelShape);
export const unitVerdictSchema = z.strictObject(unitVerdictShape);

/** For the integrator: spread each into the signed-body union (see the file comment). */
export const JOB_MESSAGE_SHAPES = {
  "unit-assign": unitAssignShape,
  "unit-heartbeat": unitHeartbeatShape,
  "unit-progress": unitProgressShape,
  "unit-result": unitResultShape,
  "unit-error": unitErrorShape,
  "unit-cancel": unitCancelShape,
  "unit-verdict": unitVerdictShape,
} as const;

export const jobMessageSchema = z.discriminatedUnion("type", [
  unitAssignSchema,
  unitHeartbeatSchema,
  unitProgressSchema,
  unitResultSchema,
  unitErrorSchema,
  unitCancelSchema,
  unitVerdictSchema,
]);

export type SolveTask = z.infer<typeof solveTaskSchema>;
export type UnitAssign = z.infer<typeof unitAssignSchema>;
export type UnitHeartbeat = z.infer<typeof unitHeartbeatSchema>;
export type UnitProgress = z.infer<typeof unitProgressSchema>;
export type UnitResultMessage = z.infer<typeof unitResultSchema>;
export type UnitSolution = z.infer<typeof solutionSchema>;
export type UnitErrorMessage = z.infer<typeof unitErrorSchema>;
export type UnitCancel = z.infer<typeof unitCancelSchema>;
export type UnitVerdict = z.infer<typeof unitVerdictSchema>;
export type JobMessage = z.infer<typeof jobMessageSchema>;

/**
 * A solution as the unit-result carries it: x by its blob's reference, and the solver's claims bounded to
 * the schema's limits (a body out of bounds would be refused whole by the requester).
 */
export function toWireSolution(
  solution: RhsSolution<unknown>,
  x: z.infer<typeof blobRefSchema>,
): UnitSolution {
  const { converged, iterations, relResidual, methodPath } = solution;
  return {
    x,
    converged,
    iterations: Math.max(0, Math.min(iterations, MAX_MAX_ITER)),
    relResidual: relResidual !== null && Number.isFinite(relResidual) ? relResidual : null,
    methodPath: methodPath.slice(0, MAX_METHOD_PATH).map((s) => s.slice(0, MAX_METHOD_LABEL_CHARS)),
  };
}

export type JobMessageParse =
  | { readonly ok: true; readonly message: JobMessage }
  | { readonly ok: false; readonly code: "bad_version" | "invalid_fields"; readonly detail: string };

/** Parses a body from `unknown` (a standalone check; inside the peer protocol the envelope parser does it). */
export function parseJobMessage(value: unknown): JobMessageParse {
  if (typeof value === "object" && value !== null && "jv" in value && value.jv !== JOB_PROTOCOL_VERSION) {
    return { ok: false, code: "bad_version", detail: `job protocol version ${String(value.jv)} is not 1` };
  }
  const parsed = jobMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "message" : issue.path.join(".");
  return { ok: false, code: "invalid_fields", detail: `${where}: ${issue?.message ?? "invalid"}` };
}
