import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { symlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseApiKeys } from "../../../api/keys.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { post, slowRequest, startApiServer, tridiagonalRequest, until } from "../api/helpers.ts";
import { argmaxRows } from "../../../src/core/experts/router/index.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import {
  fashionTestImages,
  loadManifest,
  manifestSources,
  MODELS_DIR,
  wholeGraphLogits,
} from "../experts/router-fixtures.ts";

// `open-swarm mcp` as an MCP client runs it: the real CLI spawned over stdio, driven by the SDK's own
// client, against the real server (solve API mounted, with an API key configured, so a call without the
// key is refused) on a loopback port. The key reaches the MCP server through its environment.
const BIN = fileURLToPath(new URL("../../../bin/open-swarm.mjs", import.meta.url));
const KEY = "mcp-test-key-0123456789";
const AUTH = { Authorization: `Bearer ${KEY}` };
const X_INLINE_MAX = 100;

let t: TestServer;
let client: Client;

beforeAll(async () => {
  t = await startApiServer({ keys: parseApiKeys([`${KEY}:submit+read`]) });
  // Served as a deployed server serves its build's public/models (the server's experts fetch them).
  symlinkSync(MODELS_DIR, path.join(t.staticDir, "models"));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "mcp", "--server", t.baseUrl, "--x-inline-max", String(X_INLINE_MAX), "--progress-ms", "1"],
    env: { ...getDefaultEnvironment(), OPEN_SWARM_API_KEY: KEY },
    stderr: "ignore",
  });
  client = new Client({ name: "open-swarm-test", version: "1.0.0" });
  await client.connect(transport);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await t.close();
});

type Structured = Record<string, unknown>;

/** ‖b − A x‖ / ‖b‖ of a CSR solve request, computed here from the request and x. */
function relativeResidual(request: Record<string, unknown>, x: readonly number[]): number {
  const {
    row_pointers: ptr,
    col_indices: col,
    values,
  } = (request["matrix"] as { data: Record<string, number[]> }).data as {
    row_pointers: number[];
    col_indices: number[];
    values: number[];
  };
  const b = request["vector"] as number[];
  let r2 = 0;
  let b2 = 0;
  for (let i = 0; i < b.length; i++) {
    let ax = 0;
    for (let k = ptr[i]!; k < ptr[i + 1]!; k++) ax += values[k]! * x[col[k]!]!;
    r2 += (b[i]! - ax) ** 2;
    b2 += b[i]! ** 2;
  }
  return Math.sqrt(r2 / b2);
}

describe("open-swarm mcp (stdio, the SDK's client)", () => {
  it("lists the tools, with the server's own request schemas as their inputs", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      "classify_images",
      "job_status",
      "solve",
      "swarm_status",
      "verify",
    ]);
    const doc = (await (await fetch(`${t.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const solve = tools.find((tool) => tool.name === "solve")!;
    expect(solve.inputSchema).toEqual(
      doc.paths["/solve-stream"]!.post.requestBody.content["application/json"]!.schema,
    );
    expect(solve.inputSchema.required).toEqual(["matrix", "vector"]);
  });

  it("solves with progress notifications, returns x by URL when large, and A·x ≈ b", async () => {
    // Jacobi on the 2-D Poisson matrix (40×40 grid) needs thousands of iterations to 1e-6, so the solve
    // runs on long after its first update (iteration 10: the solver thread always posts its first): the
    // progress notifications reach the client well before the result, however loaded the machine (the
    // SDK's client handles a notification a microtask later than a response read in the same chunk, and
    // drops it if the call has ended by then).
    const request = slowRequest(40, { tolerance: 1e-6, verification_interval: 1000 });
    const n = 1600;
    const progress: Progress[] = [];
    const result = (await client.callTool({ name: "solve", arguments: request }, undefined, {
      onprogress: (p) => progress.push(p),
    })) as CallToolResult;
    expect(result.isError ? result.content : "ok").toBe("ok");
    const solved = result.structuredContent as Structured;
    expect(solved).toMatchObject({ converged: true, where: "server", n });
    expect(solved["relative_residual"] as number).toBeLessThanOrEqual(1e-6);
    expect((solved["certificate"] as Structured)["value"]).toBe(solved["relative_residual"]);
    expect(progress.length).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    expect(progress.at(-1)!.progress).toBeLessThanOrEqual(solved["iterations"] as number);
    expect(progress[0]!.message).toMatch(/^iteration \d+, residual /);
    // n = 200 > --x-inline-max 100: x by URL, fetched with the same key.
    expect(solved["x"]).toBeUndefined();
    const xUrl = solved["x_url"] as string;
    expect(xUrl.startsWith(`${t.baseUrl}/api/v1/sessions/`)).toBe(true);
    const { x } = (await (await fetch(xUrl, { headers: AUTH })).json()) as { x: number[] };
    expect(x.length).toBe(n);
    expect(relativeResidual(request, x)).toBeLessThanOrEqual(1.01e-6);
    // The server refuses a call without the key: the MCP server's calls above carried it.
    expect((await fetch(xUrl)).status).toBe(401);

    // The same session through job_status and verify.
    const status = (await client.callTool({
      name: "job_status",
      arguments: { session_id: solved["session_id"] },
    })) as CallToolResult;
    expect(status.structuredContent).toMatchObject({ session_id: solved["session_id"], state: "converged" });
    expect((status.structuredContent as { result: Structured }).result["x_url"]).toBe(xUrl);
    const verify = (await client.callTool({
      name: "verify",
      arguments: { session_id: solved["session_id"], probe_count: 5 },
    })) as CallToolResult;
    expect(verify.structuredContent).toMatchObject({
      type: "verification_result",
      probe_count: 5,
      finite: true,
    });
  });

  it("returns a small x inline, without progress when none was asked for", async () => {
    const request = tridiagonalRequest(20);
    const result = (await client.callTool({ name: "solve", arguments: request })) as CallToolResult;
    const solved = result.structuredContent as { converged: boolean; x: number[] };
    expect(solved.converged).toBe(true);
    expect(solved.x.length).toBe(20);
    expect(relativeResidual(request, solved.x)).toBeLessThanOrEqual(1e-7);
  });

  it("hands the API's refusals back as tool errors with its code and message", async () => {
    const bad = tridiagonalRequest(3, { vector: [1, 2] });
    const direct = (await (await post(t.baseUrl, "/api/v1/solve-stream", bad, AUTH)).json()) as {
      error: { code: string; message: string };
    };
    const result = (await client.callTool({ name: "solve", arguments: bad })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect((result.structuredContent as { error: Structured }).error).toMatchObject({
      code: direct.error.code,
      message: direct.error.message,
      status: 400,
    });
    expect(result.content).toEqual([{ type: "text", text: `${direct.error.code}: ${direct.error.message}` }]);

    const unknown = (await client.callTool({
      name: "job_status",
      arguments: { session_id: "no-such-session" },
    })) as CallToolResult;
    expect(unknown.isError).toBe(true);
    expect((unknown.structuredContent as { error: Structured }).error).toMatchObject({
      code: "unknown_session",
      status: 404,
    });
  });

  it("cancels the server's session when the client cancels the call", async () => {
    const before = t.server.metrics().api;
    const controller = new AbortController();
    let progressed = false;
    // A solve that runs for tens of seconds (helpers.ts); cancelled as soon as it has reported progress.
    const call = client.callTool({ name: "solve", arguments: slowRequest(150) }, undefined, {
      signal: controller.signal,
      onprogress: () => {
        progressed = true;
        controller.abort();
      },
    });
    await expect(call).rejects.toThrow();
    expect(progressed).toBe(true);
    await until(() => t.server.metrics().api.sessionsCancelled === before.sessionsCancelled + 1);
    await until(() => t.server.metrics().api.solvesRunning === 0);
    expect(t.server.metrics().api.sessionsOpen).toBe(before.sessionsOpen);
  });

  it.runIf(loadManifest() !== null && fashionTestImages(1) !== null)(
    "classifies images through the server's REST jobs, exactly as the whole model graph does",
    async () => {
      const rows = 24;
      const pixels = fashionTestImages(rows)!;
      const images = Array.from({ length: rows }, (_, r) => [...pixels.subarray(r * 784, (r + 1) * 784)]);
      const result = (await client.callTool({
        name: "classify_images",
        arguments: { images },
      })) as CallToolResult;
      expect(result.isError ? result.content : "ok").toBe("ok");
      const out = result.structuredContent as {
        predictions: number[];
        rows_by_source: Record<string, number>;
      };
      // No volunteer hosts experts here: the server computed every expert row itself.
      expect(Object.keys(out.rows_by_source)).toEqual(["local"]);
      const moe = manifestSources(loadManifest()!, "int8").moe;
      const logits = await wholeGraphLogits(new OrtNodeRunner(MODELS_DIR), moe, pixels, rows, 784);
      expect(out.predictions).toEqual([...argmaxRows(logits, 10)]);
    },
    60_000,
  );

  it("reports the swarm from the server's GET /api/v1/swarm (its document lists it)", async () => {
    const result = (await client.callTool({ name: "swarm_status", arguments: {} })) as CallToolResult;
    const health = (await (await fetch(`${t.baseUrl}/api/v1/health`)).json()) as { peers: number };
    expect(result.isError ? result.content : "ok").toBe("ok");
    expect(result.structuredContent).toMatchObject({
      source: "/api/v1/swarm",
      peers: { total: health.peers },
      self_reported: true,
    });
  });
});
