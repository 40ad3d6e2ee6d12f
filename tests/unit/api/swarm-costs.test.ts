import { describe, expect, it } from "vitest";
import { ndjsonLines, post, slowRequest, until } from "./helpers.ts";
import { closeAfterEach, startSwarmServer, startVolunteer, type Line } from "./swarm-helpers.ts";

// A cost update posted to a session a volunteer computes: a volunteer's unit is a fixed system, so the
// session comes back to the server's threads, whose solver takes the update from the session's mailbox
// (update_applied on the stream, events then say "server"). The solve takes tens of seconds wherever it
// runs (Jacobi to 1e-14 on a 150×150 grid), so the update is posted while the volunteer computes; the
// client then leaves, which cancels the session.

closeAfterEach();

describe("solve-stream on the swarm: cost updates", () => {
  it("a cost update brings the session back to the server, which applies it", async () => {
    const t = await startSwarmServer();
    const volunteer = await startVolunteer();
    const peer = volunteer.swarm.identity.peerId;
    const abort = new AbortController();
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150), {}, abort.signal);
    const id = res.headers.get("x-session-id")!;
    const seen: Line[] = [];
    let posted = false;
    for await (const line of ndjsonLines(res)) {
      seen.push(line);
      if (!posted && (line["where"] as { peer?: string } | undefined)?.peer === peer) {
        posted = true;
        const update = { session_id: id, delta_costs: [{ index: 0, delta: 100 }] };
        const accepted = await post(t.baseUrl, "/api/v1/swarm/costs", update);
        expect(accepted.status).toBe(202);
      }
      if (line["type"] === "update_applied") break;
    }
    const applied = seen.at(-1)!;
    expect(applied).toMatchObject({ type: "update_applied", session_id: id, seq: 1, where: "server" });
    // Before the update: the volunteer's progress; after the takeback: the server's iterations only.
    const firstServer = seen.findIndex((l) => l["where"] === "server");
    expect(firstServer).toBeGreaterThan(0);
    expect(seen.slice(firstServer).every((l) => l["where"] === "server")).toBe(true);
    expect(t.server.metrics().api.swarmFallbacks).toBe(1);
    abort.abort();
    await until(() => t.server.metrics().api.sessionsCancelled === 1);
  }, 45_000);
});
