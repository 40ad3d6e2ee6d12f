import { afterEach, describe, expect, it } from "vitest";
import { Coordinator, type BlockHost } from "../../../src/core/distributed/index.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { workerThreadBlockHost } from "../../../src/node/block-host.ts";
import {
  CAPS,
  cleanup,
  freshDbName,
  openRepo,
  startPeers,
  startRequester,
  until,
} from "../jobs/runtime-helpers.ts";

const hosts: BlockHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) host.close();
  await cleanup();
});

/** The Node volunteer's factory, with every host it makes remembered (to count them and close them). */
function threadHost(): BlockHost {
  const host = workerThreadBlockHost();
  hosts.push(host);
  return host;
}

const TOL = 1e-8;

describe("distributed blocks in worker threads (the Node volunteer's block host)", () => {
  it("solves a distributed job with each block in its own thread, and x is certified", async () => {
    const peers = await startPeers(3, { blockHost: (i) => (i === 0 ? undefined : threadHost) });
    const [req, v1, v2] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    const rt = await startRequester(req, openRepo(freshDbName()), {
      volunteers: () => [v1, v2].map((p) => ({ peerId: p.mesh.peerId, capabilities: CAPS })),
    });
    const a = poisson2d(30);
    const input: SubmitInput = {
      name: "poisson2d-30",
      kind: "distributed-solve",
      a,
      rhs: [multiply(a, ones(a.cols))],
      method: "cg",
      tol: TOL,
      maxIter: 5_000,
      blocks: 2,
    };
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    // One thread per held block: the two volunteers made (at least) one host each.
    expect(hosts.length).toBeGreaterThanOrEqual(2);
    const [x] = await rt.solutions(id);
    expect(relativeResidual(a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  }, 30_000);

  it("answers bad block data with an error message from the thread, and a closed host rejects", async () => {
    const host = threadHost();
    const refused = await host.init({ not: "block data" });
    expect(refused).toMatchObject({ type: "error", code: "bad_message" });

    const a = poisson2d(8);
    const coordinator = new Coordinator(a, multiply(a, ones(a.cols)), 2, {
      method: "pcg",
      tol: 1e-8,
      maxIter: 100,
    });
    const good = threadHost();
    expect(await good.init(coordinator.blockData(0))).toBeNull();
    // A step the worker cannot use is answered (validated in the thread), never thrown.
    expect(await good.step({ type: "nonsense" })).toMatchObject({ type: "error" });
    good.close();
    await expect(good.step({ type: "nonsense" })).rejects.toThrow(/closed/);
  }, 20_000);
});
