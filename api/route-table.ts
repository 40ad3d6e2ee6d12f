/**
 * Every HTTP route under /api/v1, once: method, path, the zod schemas of its request and answers, and the
 * error codes it may answer. The OpenAPI document (openapi.ts) is generated from this table and nothing
 * else; tests/unit/api-openapi.test.ts walks the server's mounted routes and fails on any that is not
 * here (or here and not mounted), so the document cannot drift from the server. The request schemas are
 * the very ones the routes validate with (schemas.ts).
 */
import type { z } from "zod";
import { banCreatedSchema, banLiftedSchema, banListSchema, banRequestSchema } from "./admin-routes.ts";
import { costUpdateSchema } from "./cost-routes.ts";
import { nodesQuerySchema } from "./nodes-routes.ts";
import {
  configResponseSchema,
  costAcceptedSchema,
  datasetListSchema,
  errorBodySchema,
  healthResponseSchema,
  jobAcceptedSchema,
  jobDeletedSchema,
  jobListSchema,
  jobResultsSchema,
  jobViewSchema,
  legacyErrorSchema,
  metricsResponseSchema,
  nodeSchema,
  nodesResponseSchema,
  readyResponseSchema,
  sessionDeletedSchema,
  solutionResponseSchema,
  statusResponseSchema,
  streamEventSchema,
  swarmResponseSchema,
  verifyResponseSchema,
} from "./response-schemas.ts";
import { solveRequestSchema, verifyRequestSchema } from "./schemas.ts";
import { jobRequestSchema } from "./jobs/job-schemas.ts";

export type HttpMethod = "get" | "post" | "delete";

export interface RouteSpec {
  readonly method: HttpMethod;
  /** Under /api/v1, OpenAPI style (`/status/{session_id}`). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: "solve" | "jobs" | "swarm" | "admin" | "server" | "docs";
  readonly request?: z.ZodType;
  /** Query parameters (a zod object: each key one parameter). */
  readonly query?: z.ZodObject;
  /** The API key scope the route needs (access.ts; admin has every scope); absent: no key needed. */
  readonly scope?: "read" | "submit" | "admin";
  /** The success status, when not 200. */
  readonly status?: number;
  /** The 200 answer: a JSON body, a stream of events (NDJSON or SSE), or another media type. */
  readonly response:
    | { readonly kind: "json"; readonly schema: z.ZodType }
    | { readonly kind: "events"; readonly schema: z.ZodType }
    | { readonly kind: "raw"; readonly mediaType: string; readonly description: string };
  /** Error codes (`error.code` of the `{error}` body) by HTTP status. */
  readonly errors: Readonly<Record<number, readonly string[]>>;
  /** Errors answered in the older `{error: "code"}` shape (signaling routes). */
  readonly legacyErrors?: boolean;
}

/**
 * Every API route passes access.ts (an API key, or loopback when the server has none) and limits.admit
 * (request rates per address and per key).
 */
const ADMIT = {
  401: ["missing_api_key", "invalid_api_key"],
  403: ["api_keys_required", "insufficient_scope"],
  429: ["rate_limited", "key_rate_limited"],
} as const;
/** Every API POST reads a JSON body first (index.ts, errors.ts). */
const BODY = {
  400: ["invalid_request", "malformed_json", "bad_request"],
  413: ["body_too_large"],
  415: ["unsupported_media_type", "unsupported_encoding"],
} as const;
/** sparse/linear-system-request.ts and api/request.ts: a matrix or vector the solver cannot take. */
const SYSTEM_CODES = [
  "parse_error",
  "unsupported_format",
  "ambiguous_format",
  "count_mismatch",
  "index_out_of_range",
  "non_finite",
  "vector_length",
  "not_square",
  "singular_matrix",
] as const;
const UNKNOWN = { 404: ["unknown_session"] } as const;
const UNKNOWN_JOB = { 404: ["unknown_job"] } as const;

export const ROUTES: readonly RouteSpec[] = [
  {
    method: "post",
    path: "/solve-stream",
    operationId: "solveStream",
    scope: "submit",
    summary:
      "Solve A x = b and stream the session: iteration_update lines, a verification_result every verification_interval iterations, one solve_result last. NDJSON (default) or SSE (Accept: text/event-stream, with id: for Last-Event-ID). The session id is in the X-Session-Id header. Disconnecting cancels the session unless options.detach.",
    tag: "solve",
    request: solveRequestSchema,
    response: { kind: "events", schema: streamEventSchema },
    errors: {
      ...ADMIT,
      ...BODY,
      400: [...BODY[400], ...SYSTEM_CODES],
      413: [...BODY[413], "too_large"],
      429: [...ADMIT[429], "too_many_streams"],
      503: ["server_busy", "too_many_sessions", "draining"],
    },
  },
  {
    method: "get",
    path: "/sessions/{session_id}/events",
    operationId: "sessionEvents",
    scope: "read",
    summary:
      "(Re)attach to a session's events from Last-Event-ID (header or ?last_event_id=) on; leaving never cancels it.",
    tag: "solve",
    response: { kind: "events", schema: streamEventSchema },
    errors: {
      ...ADMIT,
      ...UNKNOWN,
      400: ["bad_last_event_id"],
      410: ["replay_expired"],
      429: [...ADMIT[429], "too_many_streams"],
    },
  },
  {
    method: "get",
    path: "/status/{session_id}",
    operationId: "sessionStatus",
    scope: "read",
    summary: "A session's state, iteration, residual and, once it has ended, its solve_result.",
    tag: "solve",
    response: { kind: "json", schema: statusResponseSchema },
    errors: { ...ADMIT, ...UNKNOWN },
  },
  {
    method: "post",
    path: "/verify",
    operationId: "verify",
    scope: "submit",
    summary:
      "Random-probe verification of the session's current x: probe_count rows' residuals, computed now.",
    tag: "solve",
    request: verifyRequestSchema,
    response: { kind: "json", schema: verifyResponseSchema },
    errors: { ...ADMIT, ...BODY, ...UNKNOWN, 409: ["no_iterate_yet"] },
  },
  {
    method: "get",
    path: "/sessions/{session_id}/x",
    operationId: "sessionSolution",
    scope: "read",
    summary: "The finished session's x (solve_result links here when n is above the inline limit).",
    tag: "solve",
    response: { kind: "json", schema: solutionResponseSchema },
    errors: { ...ADMIT, ...UNKNOWN, 409: ["not_finished"] },
  },
  {
    method: "delete",
    path: "/sessions/{session_id}",
    operationId: "sessionDelete",
    scope: "submit",
    summary:
      "Cancel a running session (kept for its TTL, state cancelled), or forget a finished one at once.",
    tag: "solve",
    response: { kind: "json", schema: sessionDeletedSchema },
    errors: { ...ADMIT, ...UNKNOWN },
  },
  {
    method: "post",
    path: "/swarm/costs",
    operationId: "costUpdate",
    scope: "submit",
    status: 202,
    summary:
      "Cost updates for a running session (delta_costs and rhs_updates on b, matrix_updates on A), applied at the solver's next iteration boundary with a warm restart; the stream says update_applied or update_rejected with the answered seq.",
    tag: "solve",
    request: costUpdateSchema,
    response: { kind: "json", schema: costAcceptedSchema },
    errors: {
      ...ADMIT,
      ...BODY,
      ...UNKNOWN,
      400: [...BODY[400], "index_out_of_range"],
      409: ["update_pending", "session_finished"],
      413: [...BODY[413], "update_too_large"],
    },
  },
  {
    method: "post",
    path: "/jobs",
    operationId: "jobCreate",
    scope: "submit",
    status: 202,
    summary:
      "Start a job: kind solve (a matrix with vector, rhs rows or random_rhs, optionally distribute: K volunteers; on the swarm when volunteers link, else on the server, said in notes), classify (images: rows of 784 floats in [0, 1]) or onnx (model: base64 ONNX, input rows of cols numbers) on the server's experts. Answers at once with the job's links.",
    tag: "jobs",
    request: jobRequestSchema,
    response: { kind: "json", schema: jobAcceptedSchema },
    errors: {
      ...ADMIT,
      ...BODY,
      400: [...BODY[400], ...SYSTEM_CODES, "unknown_kind"],
      413: [...BODY[413], "too_large"],
      429: [...ADMIT[429], "too_many_jobs"],
      501: ["not_available"],
      503: ["server_busy", "draining"],
    },
  },
  {
    method: "get",
    path: "/jobs",
    operationId: "jobList",
    scope: "read",
    summary: "The caller's jobs (every job for an admin key), running or kept for their TTL.",
    tag: "jobs",
    response: { kind: "json", schema: jobListSchema },
    errors: { ...ADMIT },
  },
  {
    method: "get",
    path: "/jobs/{job_id}",
    operationId: "jobStatus",
    scope: "read",
    summary: "A job's status, progress (units or rows done of total), where each unit ran, notes and errors.",
    tag: "jobs",
    response: { kind: "json", schema: jobViewSchema },
    errors: { ...ADMIT, ...UNKNOWN_JOB },
  },
  {
    method: "get",
    path: "/jobs/{job_id}/results",
    operationId: "jobResults",
    scope: "read",
    summary:
      "A done job's results: every x and its certificate (solve), predictions and logits (classify), the model's outputs (onnx). Up to API_MAX_RESULT_VALUES numbers.",
    tag: "jobs",
    response: { kind: "json", schema: jobResultsSchema },
    errors: {
      ...ADMIT,
      ...UNKNOWN_JOB,
      409: ["not_finished", "job_failed", "job_cancelled"],
      413: ["results_too_large"],
    },
  },
  {
    method: "delete",
    path: "/jobs/{job_id}",
    operationId: "jobDelete",
    scope: "submit",
    summary:
      "Cancel a running job (kept for its TTL, status cancelled; an admin key may cancel any), or forget a finished one.",
    tag: "jobs",
    response: { kind: "json", schema: jobDeletedSchema },
    errors: { ...ADMIT, ...UNKNOWN_JOB },
  },
  {
    method: "get",
    path: "/swarm",
    operationId: "swarm",
    scope: "read",
    summary:
      "The swarm as the directory sees it: peers by kind and capability (self-reported), volunteer cores and benchmark, expert hosts, and this server's API sessions.",
    tag: "swarm",
    response: { kind: "json", schema: swarmResponseSchema },
    errors: { ...ADMIT },
  },
  {
    method: "get",
    path: "/nodes",
    operationId: "nodes",
    scope: "read",
    summary: "The peers online, a page at a time in peer id order (what each announced to the directory).",
    tag: "swarm",
    query: nodesQuerySchema,
    response: { kind: "json", schema: nodesResponseSchema },
    errors: { ...ADMIT, 400: ["invalid_request"] },
  },
  {
    method: "get",
    path: "/nodes/{peer_id}",
    operationId: "node",
    scope: "read",
    summary: "One peer online.",
    tag: "swarm",
    response: { kind: "json", schema: nodeSchema },
    errors: { ...ADMIT, 404: ["unknown_node"] },
  },
  {
    method: "post",
    path: "/admin/bans",
    operationId: "banPeer",
    scope: "admin",
    status: 201,
    summary:
      "Ban a peer id at the directory: its joins are refused (error banned, which its app shows), its live session and PeerJS registration are closed, it leaves directory answers and /nodes. Banning again replaces the reason and expiry. Held in memory: a server restart lifts every ban.",
    tag: "admin",
    request: banRequestSchema,
    response: { kind: "json", schema: banCreatedSchema },
    errors: { ...ADMIT, ...BODY, 409: ["ban_list_full"] },
  },
  {
    method: "get",
    path: "/admin/bans",
    operationId: "bans",
    scope: "admin",
    summary: "The bans in force, oldest first.",
    tag: "admin",
    response: { kind: "json", schema: banListSchema },
    errors: { ...ADMIT },
  },
  {
    method: "delete",
    path: "/admin/bans/{peer_id}",
    operationId: "liftBan",
    scope: "admin",
    summary: "Lift a ban: the peer id may join again.",
    tag: "admin",
    response: { kind: "json", schema: banLiftedSchema },
    errors: { ...ADMIT, 404: ["unknown_ban"] },
  },
  {
    method: "get",
    path: "/openapi.json",
    operationId: "openapi",
    summary: "This document (OpenAPI 3.1), generated from the schemas the server validates with.",
    tag: "docs",
    response: { kind: "raw", mediaType: "application/json", description: "an OpenAPI 3.1 document" },
    errors: {},
  },
  {
    method: "get",
    path: "/docs",
    operationId: "docs",
    summary: "A page that renders this document (no third-party script: the server's CSP allows none).",
    tag: "docs",
    response: { kind: "raw", mediaType: "text/html", description: "the API reference page" },
    errors: {},
  },
  {
    method: "get",
    path: "/docs/{asset}",
    operationId: "docsAsset",
    summary: "The page's script and style (docs.js, docs.css).",
    tag: "docs",
    response: { kind: "raw", mediaType: "text/javascript", description: "the asset" },
    errors: { 404: ["not_found"] },
  },
  {
    method: "get",
    path: "/health",
    operationId: "health",
    summary: "Liveness, peers joined to the directory now, uptime and version.",
    tag: "server",
    response: { kind: "json", schema: healthResponseSchema },
    errors: {},
  },
  {
    method: "get",
    path: "/ready",
    operationId: "ready",
    summary:
      "For load balancers: 200 while the directory and the API take work, 503 {ready: false} when draining.",
    tag: "server",
    response: { kind: "json", schema: readyResponseSchema },
    errors: {},
  },
  {
    method: "get",
    path: "/config",
    operationId: "config",
    summary:
      "ICE servers for WebRTC; TURN credentials only with Authorization: Bearer <peerId>.<directory session token>.",
    tag: "server",
    response: { kind: "json", schema: configResponseSchema },
    errors: { 401: ["bad_session"] },
    legacyErrors: true,
  },
  {
    method: "get",
    path: "/metrics",
    operationId: "metrics",
    summary: "The server's counters since start (loopback callers, or Authorization: Bearer METRICS_TOKEN).",
    tag: "server",
    response: { kind: "json", schema: metricsResponseSchema },
    errors: { 403: ["forbidden"] },
    legacyErrors: true,
  },
  {
    method: "post",
    path: "/csp-report",
    operationId: "cspReport",
    summary: "Where browsers report Content-Security-Policy violations (counted by directive).",
    tag: "server",
    response: { kind: "raw", mediaType: "text/plain", description: "204, no body" },
    errors: { 400: ["bad_request"] },
    legacyErrors: true,
  },
  {
    method: "get",
    path: "/datasets/fashion-mnist",
    operationId: "datasetList",
    summary: "Which Fashion-MNIST test files this server has (the app's image classification demo).",
    tag: "server",
    response: { kind: "json", schema: datasetListSchema },
    errors: {},
  },
  {
    method: "get",
    path: "/datasets/fashion-mnist/{name}",
    operationId: "datasetFile",
    summary: "One Fashion-MNIST file (t10k-images, t10k-labels), as Debian's package ships it (gzip IDX).",
    tag: "server",
    response: { kind: "raw", mediaType: "application/gzip", description: "the file's bytes" },
    errors: { 404: ["unknown_dataset_file", "dataset_not_installed"] },
    legacyErrors: true,
  },
];

/** The error body schema of a route's refusals. */
export function errorSchemaOf(route: RouteSpec): z.ZodType {
  return route.legacyErrors === true ? legacyErrorSchema : errorBodySchema;
}

/** `/status/{session_id}` -> `/status/:session_id` (Express's spelling). */
export function expressPath(path: string): string {
  return path.replace(/\{([a-z_]+)\}/g, ":$1");
}

/**
 * The Express path of the route `operationId`, for routes registered from the table (docs-routes.ts); an
 * unknown id is a programming error, thrown at mount.
 */
export function mountPathOf(operationId: string): string {
  const route = ROUTES.find((r) => r.operationId === operationId);
  if (route === undefined) throw new Error(`no route ${operationId} in api/route-table.ts`);
  return expressPath(route.path);
}

/** A path parameter of a route mounted from the table (Express types them loosely: string | string[]). */
export function pathParam(params: Readonly<Record<string, string | string[] | undefined>>, name: string) {
  const value = params[name];
  return typeof value === "string" ? value : undefined;
}
