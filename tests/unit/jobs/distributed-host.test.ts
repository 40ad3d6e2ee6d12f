import { afterEach, describe, expect, it } from "vitest";
import { inThreadBlockHost, type BlockHost } from "../../../src/core/distributed/index.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";
import { DIST_TOL, distributedPoisson, volunteersOf } from "./distributed-helpers.ts";

afterEach(cleanup);

const TOL = DIST_TOL;
const distributed = (): SubmitInput => distributedPoisson(30, 2);

/** A host off this thread as the volunteer sees one: every answer comes a macrotask later. */
function laterHost(options: { failAtStep?: number } = {}): BlockHost {
  const inner = inThreadBlockHost();
  let steps = 0;
  const later = <T>(f: () => Promise<T>): Promise<T> =>
    new Promise((resolve, reject) => {
      setTimeout(() => void f().then(resolve, reject), 0);
    });
  return {
    init: (data) => later(() => inner.init(data)),
    step: (message) =>
      later(() => {
        // FAULT INJECTION: the worker dies (a crashed Web Worker rejects every call).
        if (++steps === options.failAtStep) return Promise.reject(new Error("worker crashed"));
        return inner.step(message);
      }),
    close: () => inner.close(),
  };
}

describe("distributed blocks on an asynchronous host", () => {
  it("steps each block in order when every answer comes later, and certifies x", async () => {
    const peers = await startPeers(3, { blockHost: () => () => laterHost() });
    const [req, v1, v2] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    const rt = await startRequester(req, openRepo(freshDbName()), {
      volunteers: () => volunteersOf([v1, v2]),
    });
    const input = distributed();
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    expect(rt.distributedStats(id)!.failovers).toBe(0);
    const [x] = await rt.solutions(id);
    expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  }, 30_000);

  it("a host that fails gives its block back at once; the block moves and the solve completes", async () => {
    // The first host made anywhere fails at its 20th step; every later one is sound.
    let made = 0;
    const factory = () => laterHost(made++ === 0 ? { failAtStep: 20 } : {});
    const peers = await startPeers(4, { blockHost: () => factory });
    const [req, ...vols] = peers as [(typeof peers)[0], ...(typeof peers)[number][]];
    const rt = await startRequester(req, openRepo(freshDbName()), {
      volunteers: () => volunteersOf(vols),
      // A failed block must move at once: no heartbeat timeout could move it within this test.
      scheduler: { heartbeatTimeoutMs: 120_000 },
    });
    const input = distributed();
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    expect(rt.distributedStats(id)!.failovers).toBeGreaterThanOrEqual(1);
    const gaveBack = rt
      .units(id)
      .flatMap((u) => u.history.filter((h) => h.detail.includes("the block worker failed")));
    expect(gaveBack.length).toBeGreaterThanOrEqual(1);
    const [x] = await rt.solutions(id);
    expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  }, 30_000);
});
