/**
 * What the API answers, as zod schemas: the source of the OpenAPI document's responses and stream events
 * (api/openapi.ts). The server builds these bodies in session.ts and session-routes.ts; the OpenAPI test
 * parses real answers with these (strict) schemas, so a field added or renamed there fails it until it is
 * documented here. Numbers the solver computes may be non-finite, which JSON writes as null: nullable.
 */
import { z } from "zod";

const timestamp = z.string().describe("ISO 8601 time on the server");
const where = z
  .union([
    z.literal("server"),
    z.strictObject({ kind: z.literal("volunteer"), peer: z.string(), verified: z.boolean() }),
  ])
  .describe('where the iterations ran (api/where.ts): "server" (its own threads) or a volunteer');
const solverNumber = z.number().nullable().describe("null when the solver's value was not finite");

export const SESSION_STATES = [
  "running",
  "converged",
  "not_converged",
  "failed",
  "cancelled",
  "shutdown",
] as const;

export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string().describe("snake_case, stable: branch on it"),
    message: z.string().describe("for people: says what is wrong and what to send instead"),
    path: z.string().optional().describe("the request field at fault, dotted (matrix.data.col_indices)"),
  }),
});

export const iterationUpdateSchema = z.strictObject({
  type: z.literal("iteration_update"),
  session_id: z.string(),
  iteration: z.number().int(),
  timestamp,
  method: z.string(),
  residual_norm: solverNumber,
  convergence_rate: solverNumber,
  x_partial: z.array(z.number().nullable()).describe("the first options.x_partial_count entries of x"),
  performance: z.strictObject({
    iteration_time_ms: z.number(),
    flops: z.number(),
    memory_bytes: z.number(),
  }),
  where,
});

const probeFields = {
  session_id: z.string(),
  iteration: z.number().int().describe("the iteration of the probed iterate"),
  probe_count: z.number().int(),
  rows: z.array(z.number().int()).describe("rows chosen at random by the server after x existed"),
  residuals: z.array(z.number().nullable()).describe("b_i − (A x)_i for each probed row"),
  max_abs_residual: solverNumber,
  estimated_relative_residual: solverNumber.describe("‖r‖/‖b‖ estimated from the probed rows"),
  finite: z.boolean(),
  ms: z.number(),
  passed: z.boolean().describe("the probe's verdict against the session's tolerance"),
  threshold: z.number(),
  threshold_rule: z.string(),
  timestamp,
};

export const verificationEventSchema = z.strictObject({
  type: z.literal("verification_result"),
  ...probeFields,
  where,
});

const certificateSchema = z.strictObject({
  kind: z.literal("relative_residual"),
  value: solverNumber,
  tolerance: z.number(),
  note: z.string(),
});

export const solveResultSchema = z.strictObject({
  type: z.literal("solve_result").optional().describe("present on the stream, absent in status.result"),
  session_id: z.string(),
  converged: z.boolean(),
  reason: z.string().optional(),
  iterations: z.number().int(),
  relative_residual: solverNumber.optional(),
  certificate: certificateSchema.optional(),
  method_path: z.array(z.string()).optional(),
  backend: z.string().optional(),
  ms: z.number().optional(),
  n: z.number().int().optional(),
  where,
  x: z.array(z.number().nullable()).optional().describe("the solution, when n ≤ the server's x inline limit"),
  x_url: z.string().optional().describe("GET this for x when n is above the inline limit"),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  lost: z.boolean().optional().describe("the server shut down before the session finished"),
  x_is: z.literal("last_iterate").optional().describe("with lost: x is the last iterate, not a solution"),
});

/** POST /swarm/costs took effect at an iteration boundary (warm restart from the current x). */
export const updateAppliedSchema = z.strictObject({
  type: z.literal("update_applied"),
  session_id: z.string(),
  seq: z.number().int().describe("the seq POST /swarm/costs answered"),
  iteration: z.number().int(),
  matrixEntries: z.number().int(),
  rhsEntries: z.number().int(),
  newEntries: z.number().int().describe("entries outside A's pattern, inserted"),
  residualBefore: solverNumber,
  residualAfter: solverNumber.describe("‖b − A x‖/‖b‖ of the current x on the updated system"),
  timestamp,
  where,
});

export const updateRejectedSchema = z.strictObject({
  type: z.literal("update_rejected"),
  session_id: z.string(),
  seq: z.number().int(),
  iteration: z.number().int(),
  code: z.string(),
  message: z.string(),
  timestamp,
  where,
});

/** One line of the NDJSON stream (the `data:` of one SSE event, whose `event:` is its type). */
export const streamEventSchema = z.discriminatedUnion("type", [
  iterationUpdateSchema,
  verificationEventSchema,
  updateAppliedSchema,
  updateRejectedSchema,
  solveResultSchema.extend({ type: z.literal("solve_result") }),
]);

/** POST /swarm/costs: accepted (202); the outcome comes on the stream with this seq. */
export const costAcceptedSchema = z.strictObject({
  session_id: z.string(),
  seq: z.number().int(),
  matrix_entries: z.number().int(),
  rhs_entries: z.number().int(),
  note: z.string(),
});

/** DELETE /sessions/:id: a running session cancelled, or a finished one forgotten. */
export const sessionDeletedSchema = z.strictObject({
  session_id: z.string(),
  state: z.enum(SESSION_STATES),
  cancelled: z.boolean(),
  removed: z.boolean(),
});

/** GET /ready: 200 {ready: true} while the server takes work, 503 {ready: false, reason} when draining. */
export const readyResponseSchema = z.strictObject({
  ready: z.boolean(),
  reason: z.string().optional(),
});

export const statusResponseSchema = z.strictObject({
  session_id: z.string(),
  state: z.enum(SESSION_STATES),
  method: z.string(),
  n: z.number().int(),
  nnz: z.number().int(),
  iteration: z.number().int(),
  residual_norm: solverNumber,
  created_at: timestamp,
  elapsed_ms: z.number(),
  detach: z.boolean(),
  clients: z.number().int().describe("streams reading this session now"),
  last_event_id: z.number().int().describe("resume from here with Last-Event-ID"),
  where,
  result: solveResultSchema.nullable().describe("the solve_result once the session has ended"),
});

export const verifyResponseSchema = z.strictObject({
  type: z.literal("verification_result"),
  ...probeFields,
  state: z.enum(SESSION_STATES),
});

export const solutionResponseSchema = z.strictObject({
  session_id: z.string(),
  state: z.enum(SESSION_STATES),
  n: z.number().int(),
  iteration: z.number().int(),
  x: z.array(z.number().nullable()),
});

/** GET /api/v1/health (signaling/http-app.ts). */
export const healthResponseSchema = z.strictObject({
  status: z.literal("ok"),
  peers: z.number().int().describe("peers joined to the directory now"),
  uptimeS: z.number(),
  version: z.string(),
});

/** GET /api/v1/config: ICE servers (TURN credentials only for a joined peer's bearer). */
export const configResponseSchema = z.strictObject({
  iceServers: z.array(
    z.object({
      urls: z.union([z.string(), z.array(z.string())]),
      username: z.string().optional(),
      credential: z.string().optional(),
    }),
  ),
});

/** Bodies the signaling routes answer without the API's error shape (they predate it). */
export const legacyErrorSchema = z.object({ error: z.string(), message: z.string().optional() });

/** GET /api/v1/metrics: counters since start; their names are the server's (signaling/metrics.ts). */
export const metricsResponseSchema = z.record(z.string(), z.unknown());

/** GET /api/v1/datasets/fashion-mnist: which files this server has. */
export const datasetListSchema = z.object({
  dataset: z.string(),
  available: z.boolean(),
  files: z.array(z.object({ name: z.string(), file: z.string(), available: z.boolean(), url: z.string() })),
  install: z.string().optional(),
});

/** One node as GET /nodes and /nodes/:id show it (nodes-routes.ts): what it announced, self-reported. */
export const nodeSchema = z.strictObject({
  peer_id: z.string(),
  joined_at: timestamp,
  runtime: z.enum(["browser", "node"]),
  volunteer: z.boolean(),
  busy: z.boolean(),
  cores: z.number().int(),
  benchmark_mflops: z.number(),
  webgpu: z.boolean(),
  wasm: z.strictObject({ simd: z.boolean(), threads: z.boolean() }),
  experts: z.array(z.string()),
});

export const nodesResponseSchema = z.strictObject({
  total: z.number().int(),
  nodes: z.array(nodeSchema),
  next: z.string().nullable().describe("pass as ?after= for the next page; null on the last"),
});

/** GET /swarm: the directory's peers by kind and the server's own sessions. */
export const swarmResponseSchema = z.strictObject({
  peers: z.strictObject({
    total: z.number().int(),
    browser: z.number().int(),
    node: z.number().int(),
    volunteers: z.number().int(),
    requester_only: z.number().int(),
    busy: z.number().int(),
    webgpu: z.number().int(),
  }),
  volunteer_cores: z.number(),
  volunteer_benchmark_mflops: z.number(),
  expert_hosts: z.number().int(),
  api: z.strictObject({ sessions_open: z.number().int(), solves_running: z.number().int() }),
  self_reported: z.literal(true),
  note: z.string(),
});

// ── jobs (api/jobs/) ────────────────────────────────────────────────────────────────────────────────

const jobLinksSchema = z.strictObject({
  self: z.string(),
  results: z.string(),
  events: z.string().describe("the WebSocket: send {type: subscribe, id, job_id}"),
});
export const JOB_STATUSES = ["queued", "running", "done", "failed", "cancelled"] as const;

export const jobAcceptedSchema = z.strictObject({
  job_id: z.string(),
  status: z.enum(JOB_STATUSES),
  kind: z.enum(["solve", "classify", "onnx"]),
  links: jobLinksSchema,
});

export const jobViewSchema = z.strictObject({
  job_id: z.string(),
  kind: z.enum(["solve", "classify", "onnx"]),
  status: z.enum(JOB_STATUSES),
  created_at: timestamp,
  finished_at: timestamp.nullable(),
  elapsed_ms: z.number(),
  progress: z.strictObject({
    of: z
      .enum(["units", "rows"])
      .describe("solve jobs count units (right-hand sides or row blocks), experts rows"),
    done: z.number().int(),
    total: z.number().int(),
  }),
  computed_on: z
    .enum(["swarm", "server", "experts"])
    .nullable()
    .describe("volunteers through the server's requester, the server's threads, or the experts"),
  units: z
    .array(
      z.strictObject({
        index: z.number().int(),
        status: z.enum(["pending", "running", "done", "failed"]),
        where: where.nullable(),
      }),
    )
    .describe("a solve job's units and where each ran (verified: certified by the server)"),
  rows_by_source: z
    .record(z.string(), z.number())
    .nullable()
    .describe('an expert job\'s rows by the host that computed them ("local": the server)'),
  notes: z.array(z.string()).describe("why the job ran where it did (e.g. computed on the server: ...)"),
  errors: z.array(z.strictObject({ code: z.string(), message: z.string() })),
  links: jobLinksSchema,
});

export const jobListSchema = z.strictObject({ jobs: z.array(jobViewSchema) });

const jobResultsBase = { job_id: z.string(), status: z.literal("done") };
export const jobResultsSchema = z.union([
  z.strictObject({
    ...jobResultsBase,
    kind: z.literal("solve"),
    n: z.number().int(),
    tolerance: z.number(),
    rhs_seed: z.number().int().optional(),
    rel_residuals: z.array(z.number()).describe("‖b − A x‖/‖b‖ of each x, computed by the server"),
    x: z.array(z.array(z.number())).describe("one solution per right-hand side, in order"),
  }),
  z.strictObject({
    ...jobResultsBase,
    kind: z.literal("classify"),
    rows: z.number().int(),
    predictions: z.array(z.number().int()),
    classes: z.number().int(),
    logits: z.array(z.number()).describe("[rows, classes], row-major"),
    rows_per_expert: z.array(z.number().int()),
  }),
  z.strictObject({
    ...jobResultsBase,
    kind: z.literal("onnx"),
    rows: z.number().int(),
    model_sha256: z.string(),
    output_names: z.array(z.string()),
    outputs: z.record(z.string(), z.strictObject({ cols: z.number().int(), data: z.array(z.number()) })),
  }),
]);

export const jobDeletedSchema = z.strictObject({
  job_id: z.string(),
  status: z.enum(JOB_STATUSES),
  cancelled: z.boolean(),
  removed: z.boolean(),
});

export const jobEventSchema = jobViewSchema.extend({ type: z.literal("job_update") });
