import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";
import {
  jobWhen,
  rhsRows,
  runJob,
  submitJob,
  tridiagonalJob,
  tridiagonalResidual,
  unitsWhere,
} from "./jobs-helpers.ts";
import { closeAfterEach, startSwarmServer, startVolunteer } from "./swarm-helpers.ts";

// A distributed job (distribute: 2) through the server's requester: its two row blocks run on the two real
// Node volunteers (the job waits until both link), x is certified by the server and checked here. A job
// still waiting for its K volunteers is cancelled by DELETE at once, and nothing reaches a volunteer.

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

  it("DELETE cancels a job still waiting for its volunteers, without waiting out the link wait", async () => {
    // One volunteer for a job that needs two, and a link wait far longer than the test: only the cancel
    // can end the job in time.
    const t = await startSwarmServer({ linkWaitMs: 600_000 });
    const volunteer = await startVolunteer();
    const body = tridiagonalJob(100, { vector: rhsRows(100, 1)[0], distribute: 2 });
    const id = String((await submitJob(t.baseUrl, body))["job_id"]);
    await jobWhen(t.baseUrl, id, (s) => s["status"] === "running");
    const res = await call(t.baseUrl, `/api/v1/jobs/${id}`, {}, "DELETE");
    expect(await res.json()).toMatchObject({ job_id: id, status: "cancelled", cancelled: true });
    expect(volunteer.snapshot().resultsSent).toEqual({});
    expect(t.server.metrics().api.jobsCancelled).toBe(1);
  }, 60_000);
});
