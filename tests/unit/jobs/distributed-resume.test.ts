import { afterEach, describe, expect, it } from "vitest";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import type { JobLink } from "../../../src/core/jobs/job-link.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";
import { DIST_TOL, distributedPoisson, volunteersOf } from "./distributed-helpers.ts";

afterEach(cleanup);

const TOL = DIST_TOL;
const distributed = (): SubmitInput => distributedPoisson(40, 2);

describe("a distributed solve whose requester restarts", () => {
  it("resumes from the persisted checkpoint: fewer iterations after the restart than a cold solve", async () => {
    const [req, v1, v2] = (await startPeers(3)) as [
      Awaited<ReturnType<typeof startPeers>>[0],
      Awaited<ReturnType<typeof startPeers>>[0],
      Awaited<ReturnType<typeof startPeers>>[0],
    ];
    const volunteers = () => volunteersOf([v1, v2]);
    const input = distributed();

    // The cold solve's iteration count, read from a run of the same system.
    const cold = await startRequester(req, openRepo(freshDbName()), { volunteers });
    const coldId = await cold.submit(input);
    await until(() => cold.scheduler.job(coldId)?.status !== "running", 30_000);
    const coldIterations = cold.distributedStats(coldId)!.iterations;
    expect(coldIterations).toBeGreaterThan(10); // there is a checkpoint to resume from
    cold.close();

    // First life of the requester. FAULT INJECTION: the tab "freezes" at its first checkpoint save:
    // from the moment the checkpoint is handed to the store, nothing more leaves for the block holders.
    const name = freshDbName();
    let frozen = false;
    const gated: JobLink = {
      ...req.link,
      sendDist: (to, env) => (frozen ? new Promise<void>(() => undefined) : req.link.sendDist(to, env)),
    };
    const repo1 = openRepo(name);
    const put = repo1.putBlob.bind(repo1);
    repo1.putBlob = (key, bytes, nowMs) => {
      if (key.startsWith("dist-checkpoint/")) frozen = true;
      return put(key, bytes, nowMs);
    };
    const first = await startRequester(req, repo1, { link: gated, volunteers });
    const id = await first.submit(input);
    await until(() => first.distributedCheckpoint(id).persisted !== null, 30_000);
    const persisted = first.distributedCheckpoint(id).persisted!;
    expect(first.scheduler.job(id)!.status).toBe("running");
    await first.flush();
    first.close();

    // Second life on the same store: the solve resumes from the persisted checkpoint.
    const second = await startRequester(req, openRepo(name), { volunteers });
    await until(() => second.scheduler.job(id)?.status !== "running", 30_000);
    expect(second.scheduler.job(id)!.status).toBe("done");
    const stats = second.distributedStats(id)!;
    expect(second.distributedCheckpoint(id).resumedFrom).toBe(persisted);
    expect(stats.resumedFrom).toBe(persisted);
    expect(stats.relResidual).toBeLessThanOrEqual(TOL);
    expect(stats.iterations - stats.resumedFrom).toBeLessThan(coldIterations);
    const [x] = await second.solutions(id);
    expect(relativeResidual(input.a, x!, input.rhs[0]!)).toBeLessThanOrEqual(TOL);
  }, 60_000);
});
