import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../../src/cli/mcp/api-client.ts";
import { runClassify } from "../../../src/cli/mcp/classify-tool.ts";
import { createMcpServer } from "../../../src/cli/mcp/server.ts";

// The MCP classify_images tool against the jobs contract (POST /api/v1/jobs, GET /api/v1/jobs/:id and its
// /results, DELETE to cancel), served here by a FAKE jobs API (test-only: the real endpoint is built on
// another branch; the lead wires the real test once both are merged). The fake records every request, so
// each test asserts what the tool sent as well as what it returned.

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
}

/** TEST ONLY: a fake of the server's jobs endpoints. A job is "running" for `runningPolls` status reads,
 *  then ends as `outcome`. */
class FakeJobsApi {
  readonly seen: Seen[] = [];
  runningPolls = 2;
  outcome: "done" | "failed" = "done";
  #polls = 0;
  readonly #server: Server = createServer((req, res) => void this.#answer(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.seen.length = 0;
    this.#polls = 0;
    this.runningPolls = 2;
    this.outcome = "done";
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = "";
    for await (const chunk of req) text += String(chunk);
    const body: unknown = text === "" ? null : JSON.parse(text);
    const url = req.url ?? "";
    this.seen.push({ method: req.method ?? "", url, body });
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const images = () => (this.seen.find((s) => s.method === "POST")?.body as { images: number[][] }).images;
    if (req.method === "GET" && url === "/api/v1/openapi.json")
      return send(200, { openapi: "3.1.0", paths: {} });
    if (req.method === "POST" && url === "/api/v1/jobs") return send(202, { id: "job-1", status: "queued" });
    if (req.method === "GET" && url === "/api/v1/jobs/job-1") {
      const rows = images().length;
      if (this.#polls++ < this.runningPolls) {
        return send(200, { id: "job-1", status: "running", rows, rows_done: this.#polls - 1 });
      }
      if (this.outcome === "failed") {
        return send(200, {
          id: "job-1",
          status: "failed",
          error: { code: "runtime_failed", message: "the gate failed" },
        });
      }
      return send(200, { id: "job-1", status: "done", rows, rows_done: rows });
    }
    if (req.method === "GET" && url === "/api/v1/jobs/job-1/results") {
      // A "prediction" the test can check: the index of each image's brightest pixel, mod 10.
      const predictions = images().map((row) => row.indexOf(Math.max(...row)) % 10);
      return send(200, { predictions, rows_by_source: { local: images().length } });
    }
    if (req.method === "DELETE" && url === "/api/v1/jobs/job-1")
      return send(200, { id: "job-1", status: "cancelled" });
    send(404, { error: { code: "not_found", message: `no ${req.method} ${url}` } });
  }
}

const api = new FakeJobsApi();
let client: ApiClient;
beforeAll(async () => {
  client = new ApiClient(await api.start(), "k1");
});
afterEach(() => api.reset());
afterAll(() => api.close());

/** `count` images, image i brightest at pixel i. */
function images(count: number): number[][] {
  return Array.from({ length: count }, (_, i) => {
    const row = new Array<number>(784).fill(0.1);
    row[i] = 1;
    return row;
  });
}

describe("the MCP classify_images tool (against a fake jobs API)", () => {
  it("is listed by the MCP server, submits a classify job, reports progress, and returns the server's predictions", async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = createMcpServer(client, { progressIntervalMs: 1, xInlineMax: 10 }, "test");
    await server.connect(serverSide);
    const mcp = new Client({ name: "open-swarm-test", version: "1.0.0" });
    await mcp.connect(clientSide);
    try {
      const { tools } = await mcp.listTools();
      const tool = tools.find((t) => t.name === "classify_images")!;
      expect(tool.inputSchema.required).toEqual(["images"]);
      const progress: number[] = [];
      const result = await mcp.callTool(
        { name: "classify_images", arguments: { images: images(3) } },
        undefined,
        {
          onprogress: (p) => void progress.push(p.progress),
        },
      );
      expect(result.isError).toBe(false);
      expect(result.structuredContent).toEqual({
        job_id: "job-1",
        predictions: [0, 1, 2],
        rows_by_source: { local: 3 },
      });
      const post = api.seen.find((s) => s.method === "POST")!;
      expect(post.url).toBe("/api/v1/jobs");
      expect(post.body).toEqual({ kind: "classify", images: images(3) });
      // Read from the fake's status answers: rows_done 0, 1, then 3 at the end.
      expect(progress).toEqual([0, 1, 3]);
      expect(api.seen.filter((s) => s.url === "/api/v1/jobs/job-1").length).toBe(api.runningPolls + 1);
    } finally {
      await mcp.close();
      await server.close();
    }
  });

  it("refuses bad images before sending anything, naming the image", async () => {
    const signal = new AbortController().signal;
    const short = [...images(2), [0.5, 0.5]];
    await expect(runClassify(client, { images: short }, { pollMs: 1 }, signal, null)).rejects.toMatchObject({
      code: "invalid_arguments",
      path: "images.2",
    });
    const bright = images(1);
    bright[0]![5] = 255;
    await expect(runClassify(client, { images: bright }, { pollMs: 1 }, signal, null)).rejects.toMatchObject({
      code: "invalid_arguments",
      path: "images.0.5",
    });
    expect(api.seen).toEqual([]);
  });

  it("a failed job is an error with the job's own code; a cancelled call cancels the job", async () => {
    api.outcome = "failed";
    const signal = new AbortController().signal;
    await expect(
      runClassify(client, { images: images(1) }, { pollMs: 1 }, signal, null),
    ).rejects.toMatchObject({
      code: "runtime_failed",
      message: "the gate failed",
    });

    api.reset();
    api.runningPolls = Number.POSITIVE_INFINITY;
    const controller = new AbortController();
    const reason = new Error("the agent cancelled");
    // Cancelled once the job is seen running: the tool then DELETEs it.
    const call = runClassify(client, { images: images(1) }, { pollMs: 1 }, controller.signal, async () => {
      controller.abort(reason);
    });
    await expect(call).rejects.toBe(reason);
    expect(api.seen.at(-1)).toMatchObject({ method: "DELETE", url: "/api/v1/jobs/job-1" });
  });
});
