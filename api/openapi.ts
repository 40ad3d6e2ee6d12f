/**
 * The OpenAPI 3.1 document of /api/v1, generated from the route table (route-table.ts) and its zod
 * schemas with zod's own `z.toJSONSchema` (draft 2020-12, which OpenAPI 3.1 uses as is): no hand-written
 * schema, no generator dependency. Built once per server (it depends on nothing at run time).
 */
import { readFileSync } from "node:fs";
import { jsonSchemaOf, type JsonSchema } from "./json-schema.ts";
import { WS_DOC_PATH, wsComponentSchemas, wsOperation } from "./openapi-ws.ts";
import { errorSchemaOf, ROUTES, type RouteSpec } from "./route-table.ts";

function pathParameters(path: string): JsonSchema[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string", maxLength: 128 },
  }));
}

function queryParameters(route: RouteSpec): JsonSchema[] {
  if (route.query === undefined) return [];
  const object = jsonSchemaOf(route.query, "input") as { properties?: Record<string, JsonSchema> };
  return Object.entries(object.properties ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: false,
    schema,
  }));
}

const RESUME_PARAMETERS: readonly JsonSchema[] = [
  {
    name: "Last-Event-ID",
    in: "header",
    required: false,
    description: "resume after this event id (SSE clients send it when they reconnect)",
    schema: { type: "integer", minimum: 0 },
  },
  {
    name: "last_event_id",
    in: "query",
    required: false,
    description: "the same, for clients that cannot set headers",
    schema: { type: "integer", minimum: 0 },
  },
];

function successResponse(route: RouteSpec): JsonSchema {
  const { response } = route;
  switch (response.kind) {
    case "json":
      return {
        description: "OK",
        content: { "application/json": { schema: jsonSchemaOf(response.schema, "output") } },
      };
    case "events":
      return {
        description:
          "A stream of events. NDJSON (Accept: application/x-ndjson, the default): one event per line, as in the schema. SSE (Accept: text/event-stream): `id:` (for Last-Event-ID), `event:` the type, `data:` the same JSON.",
        headers: { "X-Session-Id": { description: "the session's id", schema: { type: "string" } } },
        content: {
          "application/x-ndjson": { schema: jsonSchemaOf(response.schema, "output") },
          "text/event-stream": { schema: { type: "string" } },
        },
      };
    case "raw":
      return { description: response.description, content: { [response.mediaType]: { schema: {} } } };
  }
}

function operationOf(route: RouteSpec): JsonSchema {
  const parameters = [
    ...pathParameters(route.path),
    ...queryParameters(route),
    ...(route.operationId === "sessionEvents" ? RESUME_PARAMETERS : []),
  ];
  const errorSchema = jsonSchemaOf(errorSchemaOf(route), "output");
  const responses: Record<string, JsonSchema> = { [String(route.status ?? 200)]: successResponse(route) };
  for (const [status, codes] of Object.entries(route.errors)) {
    responses[status] = {
      description: `error.code: ${codes.join(", ")}`,
      "x-error-codes": codes,
      content: { "application/json": { schema: errorSchema } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    // A key with the scope (or admin); none from loopback while the server has no keys configured.
    ...(route.scope
      ? { description: `Needs an API key with the "${route.scope}" scope.`, security: [{ apiKey: [] }, {}] }
      : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.request
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchemaOf(route.request, "input") } },
          },
        }
      : {}),
    responses,
  };
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "0.0.0";
}

export function buildOpenApiDocument(routes: readonly RouteSpec[] = ROUTES): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    (paths[route.path] ??= {})[route.method] = operationOf(route);
  }
  // The WebSocket endpoint is not an HTTP route of the table: described apart (openapi-ws.ts).
  paths[WS_DOC_PATH] = { get: wsOperation() };
  return {
    openapi: "3.1.0",
    info: {
      title: "Open-Swarm API",
      version: packageVersion(),
      description:
        "The solve API and the server's own routes, on the signaling server's port. Errors are JSON with a 4xx (503 when full): `{error: {code, message, path?}}`; each response lists its codes in x-error-codes.",
    },
    servers: [{ url: "/api/v1" }],
    components: {
      schemas: wsComponentSchemas(),
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description:
            "Authorization: Bearer KEY, a key of OPEN_SWARM_API_KEYS (KEY:SCOPES, scopes read, submit, admin). A key sees only its own sessions (admin: all). Without keys configured the API answers loopback callers only, with no key.",
        },
      },
    },
    tags: [
      { name: "solve", description: "sparse linear solves, streamed, verified by random probes" },
      {
        name: "jobs",
        description:
          "jobs: solves (several right-hand sides, distributed) and expert batches, polled or followed",
      },
      { name: "swarm", description: "the peers online and what they announced" },
      { name: "admin", description: "operator actions (admin scope): bans at the directory" },
      { name: "server", description: "the signaling server's health, config, metrics and data" },
      { name: "docs", description: "this document" },
    ],
    paths,
  };
}
