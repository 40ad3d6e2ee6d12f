import { describe, expect, it } from "vitest";
import { rhsRows, runJob, tridiagonalJob, tridiagonalResidual, unitsWhere } from "./jobs-helpers.ts";
import { closeAfterEach, startSwarmServer, startVolunteer } from "./swarm-helpers.ts";

// REST jobs on the swarm: the server's requester against a real Node volunteer over libwebrtc on loopback.
// A multi-rhs job is computed by the volunteer (every unit says so) and each x is checked here; with
// nobody online the server computes the job and its notes say why. (jobs-distributed.test.ts: K blocks.)

closeAfterEach();

describe("POST /api/v1/jobs on the swarm (server requester, real Node volunteers)", () => {
  it("a multi-rhs job is computed by the volunteer; every unit names it; each x solves its system", async () => {
    const t = await startSwarmServer();
    const volunteer = await startVolunteer();
    const peer = volunteer.swarm.identity.peerId;
    const n = 500;
    const rhs = rhsRows(n, 4);
    const { status, x: xs } = await runJob(t.baseUrl, tridiagonalJob(n, { rhs }));
    expect(status).toMatchObject({ status: "done", computed_on: "swarm", notes: [] });
    // However the runtime grouped the right-hand sides into units, each was certified from this volunteer.
    expect(unitsWhere(status).length).toBeGreaterThan(0);
    for (const w of unitsWhere(status)) expect(w).toEqual({ kind: "volunteer", peer, verified: true });
    expect(xs).toHaveLength(4);
    xs.forEach((x, k) => expect(tridiagonalResidual(rhs[k]!, x)).toBeLessThanOrEqual(1e-10));
    expect(Object.values(volunteer.snapshot().resultsSent).reduce((s, c) => s + c, 0)).toBeGreaterThan(0);
    expect(t.server.metrics().api.jobsOnSwarm).toBe(1);
  }, 60_000);

  it("with no volunteer online the server computes the job, and its notes say so", async () => {
    const t = await startSwarmServer();
    const rhs = rhsRows(100, 2);
    const { status, x: xs } = await runJob(t.baseUrl, tridiagonalJob(100, { rhs }));
    expect(status).toMatchObject({
      status: "done",
      computed_on: "server",
      notes: ["computed on the server: no volunteer online"],
    });
    expect(unitsWhere(status)).toEqual(["server", "server"]);
    xs.forEach((x, k) => expect(tridiagonalResidual(rhs[k]!, x)).toBeLessThanOrEqual(1e-10));
    expect(t.server.metrics().api.jobsOnServer).toBe(1);
  }, 60_000);
});
