import { expect, test } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { mountApi } from "../api/index.ts";
import { startServer, type RunningServer } from "../signaling/server.ts";
import { relativeResidual } from "../src/core/solver/certificate.ts";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { solveRequest } from "../src/core/sparse/solve-request-body.ts";
import { jobsReady, volunteerState } from "./support/jobs.ts";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";

// A solve-stream session computed by a volunteer tab: the suite's server (signaling/main.ts) has no API,
// so this spec starts the server with the API mounted (as api/main.ts does), serving the test build, and
// opens one tab on it. The server's requester hands the session to the tab, whose progress and certified
// result the stream names; x is checked against A and b here.

let server: RunningServer | null = null;
let peers: TestPeer[] = [];
let dataDir: string | null = null;

test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
  await server?.close();
  server = null;
  if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
});

test("a volunteer tab computes a solve-stream session; every event names the tab", async ({ browser }) => {
  test.setTimeout(120_000);
  dataDir = mkdtempSync(path.join(tmpdir(), "open-swarm-api-e2e-"));
  server = await startServer({
    port: 0,
    host: "127.0.0.1",
    staticDir: "dist-test",
    logLevel: "error",
    configureApp: (app, context) =>
      mountApi(app, context, { swarm: { dataDir: dataDir!, joinTimeoutMs: 60_000, linkWaitMs: 30_000 } }),
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const tab = await openPeer(browser, `${origin}/?test=1`);
  peers = [tab];
  await jobsReady(tab.page);
  // A 2-D Poisson system (40×40 grid) as a solve_request; b = 1.
  const a = poisson2d(40);
  const b = new Float64Array(a.rows).fill(1);
  const body = solveRequest(a, "cg", { tolerance: 1e-10 }, (i) => b[i]!);
  const res = await fetch(`${origin}/api/v1/solve-stream`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  const lines = (await res.text())
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.find((l) => l["type"] === "solve_result")!;
  expect(result["where"]).toEqual({ kind: "volunteer", peer: tab.peerId, verified: true });
  expect(result["converged"]).toBe(true);
  const updates = lines.filter((l) => l["type"] === "iteration_update");
  expect(updates.length).toBeGreaterThan(0);
  for (const u of updates) expect((u["where"] as { peer: string }).peer).toBe(tab.peerId);
  expect(updates.at(-1)!["where"]).toEqual({ kind: "volunteer", peer: tab.peerId, verified: true });
  // x solves A x = b, checked here in f64 from the returned x.
  expect(relativeResidual(a, Float64Array.from(result["x"] as number[]), b)).toBeLessThan(1e-9);
  // The tab's own volunteer counts the unit it computed.
  expect((await volunteerState(tab.page)).unitsDone).toBeGreaterThanOrEqual(1);
});
