import { describe, expect, it } from "vitest";
import { FaultInjection } from "../../../src/core/jobs/volunteer/fault-injection.ts";
import { post, relativeResidualOf, tridiagonalRequest } from "./helpers.ts";
import { scrapeMetrics, value } from "./prometheus-text.ts";
import {
  closeAfterEach,
  collect,
  type Line,
  resultOf,
  startSwarmServer,
  startVolunteer,
  updatesOf,
} from "./swarm-helpers.ts";

// The server's swarm requester against a real server and a real Node volunteer over libwebrtc on loopback:
// a session goes to the volunteer and says so and is certified by the server; with no volunteer online the
// server computes it; a lying volunteer's answer is rejected and recomputed, never returned.

closeAfterEach();

describe("solve-stream on the swarm (server requester, real Node volunteer)", () => {
  it("a volunteer computes the session; every event names it and the result is certified", async () => {
    const t = await startSwarmServer();
    const volunteer = await startVolunteer();
    const peer = volunteer.swarm.identity.peerId;
    const body = tridiagonalRequest(2_000, { options: { tolerance: 1e-10 } });
    const lines = await collect(await post(t.baseUrl, "/api/v1/solve-stream", body));
    const result = resultOf(lines);
    expect(result["where"]).toEqual({ kind: "volunteer", peer, verified: true });
    expect(result["converged"]).toBe(true);
    const updates = updatesOf(lines);
    // Progress reports (verified false, if the solve was long enough to send any), then the certified end.
    expect(updates.length).toBeGreaterThan(0);
    for (const u of updates) expect((u["where"] as { peer: string }).peer).toBe(peer);
    expect(updates.at(-1)!["where"]).toEqual({ kind: "volunteer", peer, verified: true });
    expect(updates.slice(0, -1).every((u) => (u["where"] as { verified: boolean }).verified === false)).toBe(
      true,
    );
    // The volunteer really sent the result, and x solves the system.
    expect(Object.values(volunteer.snapshot().resultsSent).reduce((s, n) => s + n, 0)).toBeGreaterThan(0);
    expect(relativeResidualOf(body, result["x"] as number[])).toBeLessThan(1e-9);
    expect(t.server.metrics().api.swarmCertified).toBe(1);
    // /metrics counts the unit the requester sent as verified (its scheduler's count, not the session's).
    const { samples } = await scrapeMetrics(t.baseUrl);
    expect(value(samples, "open_swarm_api_units_total", { outcome: "verified" })).toBe(1);
    expect(value(samples, "open_swarm_api_units_total", { outcome: "recomputed_on_server" })).toBe(0);
    const status = (await (
      await fetch(`${t.baseUrl}/api/v1/status/${String(result["session_id"])}`)
    ).json()) as Line;
    expect(status["where"]).toEqual({ kind: "volunteer", peer, verified: true });
  }, 30_000);

  it("without a volunteer online the server computes it (where: server) and a result arrives", async () => {
    const t = await startSwarmServer();
    const body = tridiagonalRequest(500);
    const lines = await collect(await post(t.baseUrl, "/api/v1/solve-stream", body));
    expect(lines.filter((l) => l["where"] !== undefined).every((l) => l["where"] === "server")).toBe(true);
    const result = resultOf(lines);
    expect(result["converged"]).toBe(true);
    expect(relativeResidualOf(body, result["x"] as number[])).toBeLessThan(1e-7);
    expect(t.server.metrics().api.swarmSessions).toBe(0);
  }, 30_000);

  it("a lying volunteer's answer is rejected and the server recomputes it", async () => {
    const t = await startSwarmServer();
    const liar = await startVolunteer(FaultInjection.create("perturb", true));
    const body = tridiagonalRequest(1_000, { options: { tolerance: 1e-10 } });
    const lines = await collect(await post(t.baseUrl, "/api/v1/solve-stream", body));
    const result = resultOf(lines);
    // The liar did answer (the situation is forced), its answer was refused, the server's stands.
    expect(Object.values(liar.snapshot().resultsSent).reduce((s, n) => s + n, 0)).toBeGreaterThan(0);
    expect(t.server.metrics().api.swarmResultsRejected).toBeGreaterThan(0);
    expect(result["where"]).toBe("server");
    expect(result["converged"]).toBe(true);
    expect(relativeResidualOf(body, result["x"] as number[])).toBeLessThan(1e-9);
    const certified = updatesOf(lines).filter(
      (u) => (u["where"] as { verified?: boolean }).verified === true,
    );
    expect(certified).toEqual([]);
    // /metrics: the liar's attempts as rejected units and swarm_result verification failures, the
    // session as recomputed on the server; as many as the run itself counted.
    const { samples } = await scrapeMetrics(t.baseUrl);
    const rejected = t.server.metrics().api.swarmResultsRejected;
    expect(value(samples, "open_swarm_api_units_total", { outcome: "rejected" })).toBeGreaterThanOrEqual(1);
    expect(value(samples, "open_swarm_verification_failures_total", { source: "swarm_result" })).toBe(
      rejected,
    );
    expect(value(samples, "open_swarm_api_units_total", { outcome: "recomputed_on_server" })).toBe(1);
    expect(value(samples, "open_swarm_api_units_total", { outcome: "verified" })).toBe(0);
  }, 30_000);
});
