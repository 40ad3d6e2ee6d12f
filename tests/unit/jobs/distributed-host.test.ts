import { afterEach, describe, expect, it } from "vitest";
import {
  Coordinator,
  inThreadBlockHost,
  type BlockHost,
  type BlockHostFactory,
} from "../../../src/core/distributed/index.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { workerThreadBlockHost } from "../../../src/node/block-host.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";
import { DIST_TOL, distributedPoisson, volunteersOf } from "./distributed-helpers.ts";

/** Worker-thread hosts made by a test (the Node volunteer's factory), to count them and close them. */
const threadHosts: BlockHost[] = [];
afterEach(() => {
  for (const host of threadHosts.splice(0)) host.close();
  cleanup();
});

function threadHost(): BlockHost {
  const host = workerThreadBlockHost();
  threadHosts.push(host);
  return host;
}

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

/** The distributed job on two volunteers whose blocks run on `host`; resolves once the job ended. */
async function solveOnTwoVolunteers(host: BlockHostFactory) {
  const peers = await startPeers(3, { blockHost: (i) => (i === 0 ? undefined : host) });
  const [req, v1, v2] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
  const rt = await startRequester(req, openRepo(freshDbName()), {
    volunteers: () => volunteersOf([v1, v2]),
  });
  const input = distributed();
  const id = await rt.submit(input);
  await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
  return { rt, id, input };
}

describe("distributed blocks on an asynchronous host", () => {
  it("steps each block in order when every answer comes later, and certifies x", async () => {
    const { rt, id, input } = await solveOnTwoVolunteers(() => laterHost());
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

describe("distributed blocks in worker threads (the Node volunteer's host, src/node/block-host.ts)", () => {
  it("solves a distributed job with each block in its own thread, and x is certified", async () => {
    const { rt, id, input } = await solveOnTwoVolunteers(threadHost);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    // One thread per held block: the two volunteers made (at least) one host each.
    expect(threadHosts.length).toBeGreaterThanOrEqual(2);
    const [x] = await rt.solutions(id);
    expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  }, 30_000);

  it("answers bad block data with an error message from the thread, and a closed host rejects", async () => {
    const host = threadHost();
    const refused = await host.init({ not: "block data" });
    expect(refused).toMatchObject({ type: "error", code: "bad_message" });

    const a = poisson2d(8);
    const coordinator = new Coordinator(a, multiply(a, ones(a.cols)), 2, {
      method: "pcg",
      tol: TOL,
      maxIter: 100,
    });
    expect(await host.init(coordinator.blockData(0))).toBeNull();
    // A step the worker cannot use is answered (validated in the thread), never thrown.
    expect(await host.step({ type: "nonsense" })).toMatchObject({ type: "error" });
    host.close();
    await expect(host.step({ type: "nonsense" })).rejects.toThrow(/closed/);
  }, 20_000);
});
