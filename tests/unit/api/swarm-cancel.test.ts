import { describe, expect, it } from "vitest";
import { ndjsonLines, post, slowRequest, until } from "./helpers.ts";
import { closeAfterEach, startSwarmServer, startVolunteer, type Line } from "./swarm-helpers.ts";

// A swarm session whose volunteer leaves goes back to the server's threads (events then say "server"); a
// client that disconnects (no detach) cancels the volunteer's job. Both on a solve that takes tens of
// seconds wherever it runs, so each situation is made to happen while the volunteer computes.

closeAfterEach();

describe("solve-stream on the swarm: volunteers and clients leaving", () => {
  it("the volunteer leaving hands the session back to the server; the client leaving cancels the job", async () => {
    const t = await startSwarmServer();
    const volunteer = await startVolunteer();
    const peer = volunteer.swarm.identity.peerId;
    // Jacobi to 1e-14 on a 150×150 grid: tens of seconds, wherever it runs (helpers.ts).
    const abort = new AbortController();
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150), {}, abort.signal);
    const seen: Line[] = [];
    for await (const line of ndjsonLines(res)) {
      seen.push(line);
      const where = line["where"];
      if (typeof where === "object" && where !== null && volunteer.snapshot().current !== null) {
        // The volunteer is computing and reported progress: it leaves (its unit is given back).
        void volunteer.leave();
      }
      if (where === "server") break;
    }
    expect(seen.some((l) => (l["where"] as { peer?: string } | undefined)?.peer === peer)).toBe(true);
    expect(seen.at(-1)!["where"]).toBe("server");
    expect(t.server.metrics().api.swarmFallbacks).toBe(1);
    abort.abort();
    await until(() => t.server.metrics().api.sessionsCancelled === 1);
  }, 45_000);

  it("a client disconnecting cancels the volunteer's job", async () => {
    const t = await startSwarmServer();
    const volunteer = await startVolunteer();
    const abort = new AbortController();
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150), {}, abort.signal);
    // Read until the volunteer reported progress: it holds and computes the unit now.
    for await (const line of ndjsonLines(res)) {
      if (typeof line["where"] === "object" && volunteer.snapshot().current !== null) break;
    }
    const unitId = volunteer.snapshot().current!.unitId;
    abort.abort();
    // The requester's cancel reaches the volunteer: it stops that unit and logs it cancelled.
    await until(() => volunteer.snapshot().current === null);
    await until(() => volunteer.snapshot().log.some((e) => e.unitId === unitId && e.outcome === "cancelled"));
    await until(() => t.server.metrics().api.sessionsCancelled === 1);
    expect(t.server.metrics().api.swarmFallbacks).toBe(0);
  }, 45_000);
});
