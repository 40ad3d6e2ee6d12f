import { Validator } from "@seriousme/openapi-schema-validator";
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountApi } from "../../../api/index.ts";
import {
  configResponseSchema,
  healthResponseSchema,
  jobAcceptedSchema,
  jobDeletedSchema,
  jobListSchema,
  jobResultsSchema,
  jobViewSchema,
  nodesResponseSchema,
  solutionResponseSchema,
  statusResponseSchema,
  streamEventSchema,
  swarmResponseSchema,
  verifyResponseSchema,
} from "../../../api/response-schemas.ts";
import { jsonSchemaOf } from "../../../api/json-schema.ts";
import { expressPath, ROUTES } from "../../../api/route-table.ts";
import { wsClientMessageSchema, wsServerMessageSchema } from "../../../api/ws-messages.ts";
import { CONTENT_SECURITY_POLICY } from "../../../signaling/http-security.ts";
import { startTestServer, type TestServer } from "../signaling/helpers.ts";
import { WebSocket } from "ws";
import { ndjsonLines, post, tridiagonalRequest, until } from "./helpers.ts";
import { rhsRows, tridiagonalJob } from "./jobs-helpers.ts";

// GET /api/v1/openapi.json against the real server: a valid OpenAPI 3.1 document (checked by a validator
// of the official schemas), listing every route the server has mounted under /api/v1 and no route it has
// not (the app's own router is walked), and whose response schemas, strict, accept what the server really
// answers (a field added to an answer fails here until it is documented).
let t: TestServer;
let app: Express | undefined;
let doc: { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

beforeAll(async () => {
  const config = { requestRatePerS: 10_000, requestBurst: 10_000, xInlineMax: 500 };
  t = await startTestServer({
    configureApp: (express, context) => {
      app = express;
      return mountApi(express, context, config);
    },
  });
  const res = await fetch(`${t.baseUrl}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});
afterAll(async () => {
  await t.close();
});

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  rawPath?: unknown;
  handle: { stack?: Layer[] };
}

/** Parameter names are each side's own (`:id`, `{session_id}`): compared by position only. */
const anyParam = (path: string) => path.replace(/:[a-z_]+/g, ":param");

/** "METHOD /path" of every route mounted in `stack` under `prefix` (Express 5's router layers). */
function mountedRoutes(stack: Layer[], prefix: string): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      // A route on a list of paths is a guard on several endpoints (index.ts: JSON bodies only), not one.
      if (typeof layer.route.path !== "string") return [];
      return Object.keys(layer.route.methods)
        .filter((m) => m !== "_all" && m !== "head")
        .map((m) => `${m.toUpperCase()} ${anyParam(prefix + String(layer.route!.path))}`);
    }
    const nested = layer.handle.stack;
    if (nested === undefined) return [];
    return mountedRoutes(nested, prefix + (typeof layer.rawPath === "string" ? layer.rawPath : ""));
  });
}

describe("GET /api/v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    // The validator bites: the same document with a malformed operation is refused.
    const broken = structuredClone(doc);
    broken.paths["/verify"]!["post"]!["responses"] = "none";
    expect((await validator.validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
  });

  it("lists exactly the routes the server has mounted under /api/v1", () => {
    const router = (app as unknown as { router: { stack: Layer[] } }).router;
    const mounted = mountedRoutes(router.stack, "")
      .filter((r) => r.split(" ")[1]!.startsWith("/api/v1/"))
      .sort();
    // The WebSocket endpoint is an upgrade, not an Express route: checked on its own below.
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([, op]) => op["x-websocket"] === undefined)
          .map(([m]) => `${m.toUpperCase()} ${anyParam(`/api/v1${expressPath(path)}`)}`),
      )
      .sort();
    expect(mounted.length).toBeGreaterThanOrEqual(10);
    expect(documented).toEqual(mounted);
  });

  it("describes request bodies with the schemas the server validates with", () => {
    const body = (doc.paths["/solve-stream"]!["post"]!["requestBody"] as Record<string, never>)["content"]![
      "application/json"
    ]!["schema"] as Record<string, Record<string, Record<string, unknown>>>;
    expect(body["required"]).toEqual(["matrix", "vector"]);
    expect(body["properties"]!["vector"]).toEqual({ type: "array", items: { type: "number" } });
    expect(body["properties"]!["method"]!["enum"]).toContain("gauss_seidel");
    expect(body["additionalProperties"]).toBe(false);
  });

  it("names the error codes the server really answers", async () => {
    const res = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(3, { vector: [1, 2] }));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string } };
    const documented = (doc.paths["/solve-stream"]!["post"]!["responses"] as Record<string, never>)["400"]![
      "x-error-codes"
    ] as string[];
    expect(documented).toContain(error.code);
  });
});

describe("/api/v1/ws in the document", () => {
  it("is a GET upgrade whose x-websocket messages are the server's own zod schemas, and it opens there", async () => {
    const op = doc.paths["/ws"]!["get"]! as Record<string, Record<string, unknown>>;
    expect(Object.keys(op["responses"]!)).toContain("101");
    const ws = op["x-websocket"] as { client: { $ref: string }; server: { $ref: string } };
    const schemas = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components
      .schemas;
    const resolve = (ref: string): unknown => schemas[ref.replace("#/components/schemas/", "")];
    expect(resolve(ws.client.$ref)).toEqual(jsonSchemaOf(wsClientMessageSchema, "input"));
    expect(resolve(ws.server.$ref)).toEqual(jsonSchemaOf(wsServerMessageSchema, "output"));
    const clientTypes = JSON.stringify(resolve(ws.client.$ref));
    for (const type of ["subscribe", "unsubscribe", "ping"]) expect(clientTypes).toContain(`"${type}"`);
    // The documented path is where the server listens: a ping there gets a pong the schema accepts.
    const socket = new WebSocket(`${t.baseUrl.replace("http", "ws")}/api/v1/ws`);
    const pong = await new Promise<unknown>((resolve, reject) => {
      socket.once("open", () => socket.send(JSON.stringify({ type: "ping", id: "p1" })));
      socket.once("message", (data) => resolve(JSON.parse(String(data))));
      socket.once("error", reject);
    });
    socket.close();
    expect(wsServerMessageSchema.parse(pong)).toEqual({ type: "pong", id: "p1" });
  });
});

describe("documented answers match real ones", () => {
  it("accepts every event of a real stream and the status, verify and x answers", async () => {
    const res = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      tridiagonalRequest(50, { method: "jacobi", options: { verification_interval: 5, probe_count: 3 } }),
    );
    expect(res.status).toBe(200);
    const types = new Set<unknown>();
    for await (const line of ndjsonLines(res)) {
      streamEventSchema.parse(line);
      types.add(line["type"]);
    }
    // Jacobi (rate ~1/2) needs ~27 iterations to 1e-8: a verification at iteration 5 is always due.
    expect([...types].sort()).toEqual(["iteration_update", "solve_result", "verification_result"]);
    const id = res.headers.get("x-session-id")!;
    const get = async (path: string) => (await fetch(`${t.baseUrl}${path}`)).json() as Promise<unknown>;
    statusResponseSchema.parse(await get(`/api/v1/status/${id}`));
    solutionResponseSchema.parse(await get(`/api/v1/sessions/${id}/x`));
    const verify = await post(t.baseUrl, "/api/v1/verify", { session_id: id, probe_count: 4 });
    verifyResponseSchema.parse(await verify.json());
    healthResponseSchema.parse(await get("/api/v1/health"));
    configResponseSchema.parse(await get("/api/v1/config"));
    swarmResponseSchema.parse(await get("/api/v1/swarm"));
    nodesResponseSchema.parse(await get("/api/v1/nodes"));
  });
});

describe("documented job answers match real ones", () => {
  it("accepts a job's 202, status, list, results and delete answers", async () => {
    const res = await post(t.baseUrl, "/api/v1/jobs", tridiagonalJob(20, { rhs: rhsRows(20, 2) }));
    expect(res.status).toBe(202);
    const { job_id: id } = jobAcceptedSchema.parse(await res.json());
    const get = async (path: string) => (await fetch(`${t.baseUrl}${path}`)).json() as Promise<unknown>;
    await until(async () => jobViewSchema.parse(await get(`/api/v1/jobs/${id}`)).status === "done");
    jobListSchema.parse(await get("/api/v1/jobs"));
    expect(jobResultsSchema.parse(await get(`/api/v1/jobs/${id}/results`))).toMatchObject({ kind: "solve" });
    const deleted = await fetch(`${t.baseUrl}/api/v1/jobs/${id}`, { method: "DELETE" });
    jobDeletedSchema.parse(await deleted.json());
  });
});

describe("GET /api/v1/docs", () => {
  it("serves a page and its own script and style under the server's CSP (no inline script, no CDN)", async () => {
    const page = await fetch(`${t.baseUrl}/api/v1/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1]!)
      .filter((s) => s !== "data:,");
    expect(sources.length).toBeGreaterThanOrEqual(3);
    for (const source of sources) expect(source).toMatch(/^\/api\/v1\//);
    expect(html).not.toMatch(/<script>|<style>|style="/);
    const script = await fetch(`${t.baseUrl}/api/v1/docs/docs.js`);
    expect(script.headers.get("content-type")).toContain("text/javascript");
    expect(await script.text()).toContain("/api/v1/openapi.json");
    const style = await fetch(`${t.baseUrl}/api/v1/docs/docs.css`);
    expect(style.headers.get("content-type")).toContain("text/css");
    const missing = await fetch(`${t.baseUrl}/api/v1/docs/other.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
  });
});

// The table's helper, used by the server's route walk above.
it("spells OpenAPI paths as Express paths", () => {
  expect(expressPath("/sessions/{session_id}/x")).toBe("/sessions/:session_id/x");
  expect(ROUTES.every((r) => r.path.startsWith("/"))).toBe(true);
});
