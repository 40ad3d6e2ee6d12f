import { describe, expect, it } from "vitest";
import { rhsRows, runJob, tridiagonalJob, tridiagonalResidual, unitsWhere } from "./jobs-helpers.ts";
import { closeAfterEach, startSwarmServer, startVolunteer } from "./swarm-helpers.ts";

// A distributed job (distribute: 2) through the server's requester: its two row blocks run on the two real
// Node volunteers (the job waits until both link), x is certified by the server and checked here.

closeAfterEach();

describe("POST /api/v1/jobs: distribute", () => {
  it("a distributed job runs its row blocks on two volunteers and x solves the system", async () => {
    const t = await startSwarmServer();
    const volunteers = [await startVolunteer(), await startVolunteer()];
    const peers = volunteers.map((v) => v.swarm.identity.peerId).sort();
    const n = 400;
    const b = rhsRows(n, 1)[0]!;
    const { status, x } = await runJob(t.baseUrl, tridiagonalJob(n, { vector: b, distribute: 2 }));
    expect(status).toMatchObject({ status: "done", computed_on: "swarm", progress: { done: 2, total: 2 } });
    const holders = unitsWhere(status).map((w) => (w as { peer: string }).peer);
    expect(holders).toHaveLength(2);
    for (const peer of holders) expect(peers).toContain(peer);
    expect(tridiagonalResidual(b, x[0]!)).toBeLessThanOrEqual(1e-10);
  }, 60_000);
});
