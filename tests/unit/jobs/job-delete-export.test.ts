import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { OpenSwarmDb } from "../../../src/core/storage/db.ts";
import { JobRepository } from "../../../src/core/storage/job-repository.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { estimateRemainingMs } from "../../../src/state/jobs/eta.ts";
import { seededRandom } from "./helpers.ts";
import { cleanup, freshDbName, startPeers, startRequester, until } from "./runtime-helpers.ts";

afterEach(cleanup);

function input(seed: number, count = 3): SubmitInput {
  const a = poisson2d(8);
  const random = seededRandom(seed);
  const rhs = Array.from({ length: count }, () =>
    Float64Array.from({ length: a.rows }, () => random() - 0.5),
  );
  return { name: `job-${seed}`, kind: "multi-rhs", a, rhs, method: "cg", tol: 1e-9, maxIter: 2_000 };
}

function open(): { db: OpenSwarmDb; repo: JobRepository } {
  const db = new OpenSwarmDb(freshDbName());
  return { db, repo: new JobRepository(db) };
}

describe("deleting and exporting a job", () => {
  it("delete removes the job, its units, results, meta, view and unshared inputs; keeps shared ones", async () => {
    const [peer] = await startPeers(1);
    const { db, repo } = open();
    const rt = await startRequester(peer!, repo);
    const gone = await rt.submit(input(1));
    const kept = await rt.submit({ ...input(2), a: poisson2d(8) }); // the same A: its blob is shared
    await until(() => rt.scheduler.job(gone)?.status === "done" && rt.scheduler.job(kept)?.status === "done");
    await rt.flush();
    const spec = rt.scheduler.job(gone)!.spec;
    expect(await db.results.where("jobId").equals(gone).count()).toBeGreaterThan(0);
    // What delete must remove exists first: the name (meta) and the saved view of the finished job.
    expect(await db.jobBlobs.get(`meta/${gone}`)).toBeDefined();
    for (let i = 0; i < 100 && (await db.jobBlobs.get(`view/${gone}`)) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await db.jobBlobs.get(`view/${gone}`)).toBeDefined();
    for (const r of spec.rhs) expect(await db.jobBlobs.get(r.sha256)).toBeDefined();

    await rt.deleteJob(gone);

    expect(rt.jobs().map((j) => j.id)).toEqual([kept]);
    expect(rt.scheduler.job(gone)).toBeUndefined();
    expect(await db.jobs.get(gone)).toBeUndefined();
    expect(await db.units.where("jobId").equals(gone).count()).toBe(0);
    expect(await db.results.where("jobId").equals(gone).count()).toBe(0);
    expect(await db.jobBlobs.get(`meta/${gone}`)).toBeUndefined();
    expect(await db.jobBlobs.get(`view/${gone}`)).toBeUndefined();
    for (const r of spec.rhs) expect(await db.jobBlobs.get(r.sha256)).toBeUndefined();
    // A is kept: the other job still uses it, and that job still answers.
    expect(await db.jobBlobs.get(spec.matrix.sha256)).toBeDefined();
    expect(await rt.solutions(kept)).toHaveLength(3);
    db.close();
  });

  it("refuses to delete a running job", async () => {
    const [peer] = await startPeers(1);
    peer!.volunteer!.pause(); // nothing computes: the job stays running
    const { db, repo } = open();
    const rt = await startRequester(peer!, repo);
    const id = await rt.submit(input(3));
    await expect(rt.deleteJob(id)).rejects.toThrow(/running: cancel it/);
    expect(await db.jobs.get(id)).toBeDefined();
    await rt.cancel(id);
    await rt.deleteJob(id);
    expect(await db.jobs.get(id)).toBeUndefined();
    db.close();
  });

  it("export carries the spec, every unit and the certified residual per right-hand side", async () => {
    const [peer] = await startPeers(1);
    const { db, repo } = open();
    const rt = await startRequester(peer!, repo);
    const id = await rt.submit(input(4, 4));
    await until(() => rt.scheduler.job(id)?.status === "done");
    const doc = JSON.parse(JSON.stringify(await rt.exportJob(id, "http://x/#/dashboard"))) as {
      format: string;
      name: string;
      job: { id: string; spec: { rhs: unknown[] } };
      units: { id: string; status: string }[];
      certifiedRelResiduals: number[];
      downloads: { page: string };
    };
    expect(doc.format).toBe("open-swarm-job/1");
    expect(doc.name).toBe("job-4");
    expect(doc.job.spec.rhs).toHaveLength(4);
    expect(doc.units.every((u) => u.status === "done")).toBe(true);
    expect(doc.certifiedRelResiduals).toHaveLength(4);
    for (const r of doc.certifiedRelResiduals) expect(r).toBeLessThanOrEqual(1e-9);
    expect(doc.downloads.page).toBe("http://x/#/dashboard");
    db.close();
  });
});

describe("ETA of a running job", () => {
  it("is estimating until a unit is done, then the units left at the pace so far", () => {
    expect(estimateRemainingMs(0, 10, 0, 5_000)).toBeNull();
    expect(estimateRemainingMs(2, 10, 0, 4_000)).toBe(16_000);
    expect(estimateRemainingMs(10, 10, 0, 4_000)).toBeNull();
    expect(estimateRemainingMs(1, 10, 5_000, 5_000)).toBeNull();
  });
});
