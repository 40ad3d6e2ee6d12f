import { afterEach, describe, expect, it } from "vitest";
import { FaultInjection } from "../../../src/core/jobs/volunteer/fault-injection.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";
import { volunteersOf } from "./distributed-helpers.ts";
import { seededRandom } from "./helpers.ts";

afterEach(cleanup);

// A distributed solve with a lying block holder (the test-only FaultInjection "block-lie": every number
// of every reply off by ~1e-3) over the in-memory mesh: the coordinator's audit blames it, the requester
// bans it, its block moves, and the solve completes from the last good checkpoint, certified.

describe("distributed solve sabotage (issue 10, item 8)", () => {
  it("the lying block holder is blamed and banned; the solve completes, certified", async () => {
    const liar = FaultInjection.create("block-lie", true, seededRandom(9));
    const peers = await startPeers(3, { fault: (i) => (i === 2 ? liar : null) });
    const [req, honest, lying] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    // Forced: two volunteers for two blocks, and blocks of one solve go to distinct volunteers while there
    // are enough, so the liar holds one.
    const rt = await startRequester(req, openRepo(freshDbName()), {
      volunteers: () => volunteersOf([honest, lying]),
    });
    const a = poisson2d(40);
    const b = multiply(a, ones(a.cols));
    const id = await rt.submit({
      name: "poisson2d-40 with a saboteur",
      kind: "distributed-solve",
      a,
      rhs: [b],
      method: "cg",
      tol: 1e-8,
      maxIter: 5_000,
      blocks: 2,
    });
    await until(() => rt.scheduler.job(id)?.status !== "running", 60_000);
    expect(liar.blockRepliesCorrupted).toBeGreaterThan(0); // it held a block and lied
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const liarId = lying.mesh.peerId;
    const blamed = rt.units(id).flatMap((u) => u.history.filter((h) => h.volunteerId === liarId));
    expect(blamed.map((h) => h.outcome)).toContain("invalid-result");
    expect(blamed.find((h) => h.outcome === "invalid-result")!.detail).toMatch(/block audit/);
    expect(rt.scheduler.reputation.isBanned(liarId, Date.now())).toBe(true);
    expect(rt.units(id).every((u) => u.result!.volunteerId === honest.mesh.peerId)).toBe(true);
    const stats = rt.distributedStats(id)!;
    expect(stats.blamed).toBe(1);
    expect(stats.relResidual).toBeLessThanOrEqual(1e-8);
    const [x] = await rt.solutions(id);
    expect(relativeResidual(a, x!, b)).toBeLessThanOrEqual(1e-8);
    // The honest holder was never blamed.
    expect(rt.scheduler.reputation.get(honest.mesh.peerId).totalInvalid).toBe(0);
  }, 90_000);
});
