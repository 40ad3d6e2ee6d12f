import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import { startApiServer } from "./helpers.ts";

// The HTTP API examples of docs/API.md (and the one the README shows, which must be one of them), extracted
// and run as printed with bash and curl against the real server: only the address changes (localhost:8080 ->
// this test's loopback port).
const run = promisify(execFile);
let t: TestServer;

/** The ```sh blocks of `file` from its `marker` to the next section (## heading). */
function shBlocks(file: string, marker: string): string[] {
  const text = readFileSync(new URL(`../../../${file}`, import.meta.url), "utf8");
  const start = text.indexOf(marker);
  expect(start, `${marker} in ${file}`).toBeGreaterThan(0);
  const end = text.indexOf("\n## ", start);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function readmeExamples(): string[] {
  return shBlocks("docs/API.md", "<!-- api-examples -->");
}

async function sh(script: string): Promise<string> {
  const local = script.replaceAll("http://localhost:8080", t.baseUrl);
  const { stdout } = await run("bash", ["-e", "-o", "pipefail", "-c", local], { timeout: 30_000 });
  return stdout;
}

beforeAll(async () => {
  t = await startApiServer();
});
afterAll(async () => {
  await t.close();
});

describe("README curl examples", () => {
  const [stream, sse, seed, costs, ban, job, overview] = readmeExamples();

  it("the README's own example is one of docs/API.md's (so it runs as printed too)", () => {
    const shown = shBlocks("README.md", "<!-- api-readme-example -->");
    expect(shown).toHaveLength(1);
    expect(readmeExamples()).toContain(shown[0]);
  });

  it("streams a CSR solve to a certified solve_result", async () => {
    const lines = (await sh(stream!))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l["type"] === "verification_result")).toBe(true);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ type: "solve_result", converged: true });
    const x = last["x"] as number[];
    // [4 -1 0; -1 4 -1; 0 -1 4] x = [1 2 3]: x = [13/28, 6/7, 27/28].
    expect(x[0]).toBeCloseTo(13 / 28, 9);
    expect(x[1]).toBeCloseTo(6 / 7, 9);
    expect(x[2]).toBeCloseTo(27 / 28, 9);
  });

  it("streams COO as SSE, then status and verify of that session", async () => {
    const [status, verify] = (await sh(sse!))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(status).toMatchObject({ state: "converged", n: 3 });
    expect(verify).toMatchObject({
      type: "verification_result",
      probe_count: 3,
      rows: [0, 1, 2],
      finite: true,
    });
    expect(verify!["max_abs_residual"]).toBeLessThan(1e-8);
  });

  it("answers the seed's wrong example with 400 naming the mismatches", async () => {
    const out = (await sh(seed!)).trim();
    expect(out.endsWith(" 400")).toBe(true);
    const body = JSON.parse(out.slice(0, -4)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("ambiguous_format");
    expect(body.error.message).toContain("expects row_pointers + col_indices");
    expect(body.error.message).toContain("vector has 3 entries but rows = 1000");
  });

  it("posts a cost update into a detached running session, sees it applied, and cancels it", async () => {
    const [accepted, applied, deleted] = (await sh(costs!)).trim().split("\n");
    expect(accepted!.endsWith(" 202")).toBe(true);
    const answer = JSON.parse(accepted!.slice(0, -4)) as { session_id: string; seq: number };
    expect(answer).toMatchObject({ seq: 1, matrix_entries: 1, rhs_entries: 1 });
    expect(JSON.parse(applied!)).toMatchObject({ type: "update_applied", seq: 1 });
    expect(JSON.parse(deleted!)).toMatchObject({ session_id: answer.session_id });
    // The session was running when the update came (detached, not cancelled by curl leaving), then cancelled.
    const status = await fetch(`${t.baseUrl}/api/v1/status/${answer.session_id}`);
    expect(((await status.json()) as { state: string }).state).toBe("cancelled");
    expect(t.server.metrics().api.costUpdates).toBe(1);
  }, 60_000);

  it("bans a peer id, lists the ban, and lifts it", async () => {
    const [created, listed, lifted] = (await sh(ban!)).trim().split("\n");
    expect(created!.endsWith(" 201")).toBe(true);
    const id = "os0123456789abcdef0123456789abcdef";
    expect(JSON.parse(created!.slice(0, -4))).toMatchObject({ peer_id: id, reason: "sent wrong results" });
    expect(JSON.parse(listed!)).toMatchObject({ total: 1, bans: [{ peer_id: id }] });
    expect(JSON.parse(lifted!)).toEqual({ peer_id: id, lifted: true });
    expect(t.server.metrics().bans).toMatchObject({ added: 1, lifted: 1 });
  });

  it("submits a two-rhs job, polls it, fetches both x and forgets it", async () => {
    const [results, deleted] = (await sh(job!))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(results).toMatchObject({ kind: "solve", status: "done", n: 3 });
    const [x1, x2] = results!["x"] as number[][];
    // b = [1 2 3]: x = [13/28, 6/7, 27/28]; b = [3 2 1] is its mirror image.
    [13 / 28, 6 / 7, 27 / 28].forEach((v, i) => {
      expect(x1![i]).toBeCloseTo(v, 9);
      expect(x2![2 - i]).toBeCloseTo(v, 9);
    });
    expect(deleted).toMatchObject({ job_id: results!["job_id"], status: "done", removed: true });
  });

  it("shows the swarm, the peers, readiness and the OpenAPI document", async () => {
    const [swarm, nodes, ready, openapi] = (await sh(overview!)).trim().split("\n");
    expect(JSON.parse(swarm!)).toMatchObject({ self_reported: true });
    expect(JSON.parse(nodes!)).toHaveProperty("nodes");
    expect(ready).toBe("200");
    const doc = JSON.parse(openapi!) as { openapi: string; paths: number };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(doc.paths).toBeGreaterThan(10);
  });
});
