import { afterEach, describe, expect, it } from "vitest";
import type { VolunteerFault } from "../../../src/core/jobs/volunteer/volunteer-fault.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";
import { DIST_TOL, distributedPoisson, volunteersOf } from "./distributed-helpers.ts";

afterEach(cleanup);

// The requester's traffic with peer halos, and what happens when a pair has no link, on the overlay:
// distributed-overlay-halos.test.ts. Here, on a full mesh: a holder that lies only to its neighbours.

const TOL = DIST_TOL;
const distributed = (): SubmitInput => distributedPoisson(40, 3);

describe("peer-to-peer halos between block holders", () => {
  it("a holder lying only to its neighbours: the routing falls back, the audit names it, it is banned", async () => {
    // FAULT INJECTION (test-only): an honest block worker whose halo parts are off by 1 % from its 15th
    // exchange on; its own x, r and partials stay honest, so only its neighbours ever see the lie.
    let lies = 0;
    const liesInHalos: VolunteerFault = {
      corrupt: (solved) => solved,
      corruptBlockReply: (m) => {
        if (m.type !== "halo" || m.seq < 15) return m;
        lies++;
        return { ...m, parts: m.parts.map((p) => ({ ...p, values: p.values.map((v) => v * 1.01) })) };
      },
    };
    const peers = await startPeers(3, { fault: (i) => (i === 2 ? liesInHalos : null) });
    const [req, honest, lying] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    // Forced: two volunteers for two blocks, and blocks of one solve go to distinct volunteers while there
    // are enough, so the liar holds one (and its neighbour is the honest one).
    const rt = await startRequester(req, openRepo(freshDbName()), {
      distributedHaloRouting: "peer",
      volunteers: () => volunteersOf([honest, lying]),
    });
    const input = { ...distributed(), blocks: 2 };
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
    expect(lies).toBeGreaterThan(0);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const stats = rt.distributedStats(id)!;
    expect(stats.peerFallbacks).toBe(1);
    expect(stats.haloRouting).toBe("coordinator");
    expect(stats.blamed).toBe(1);
    expect(rt.scheduler.reputation.isBanned(lying.mesh.peerId, Date.now())).toBe(true);
    // The neighbour it lied to was never blamed.
    expect(rt.scheduler.reputation.get(honest.mesh.peerId).totalInvalid).toBe(0);
    const [x] = await rt.solutions(id);
    expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  }, 30_000);
});
