import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FileJobStore } from "../../../src/node/file-job-store.ts";
import type { JobStore } from "../../../src/core/jobs/job-store.ts";
import type { SolveJob, WorkUnit } from "../../../src/core/jobs/model.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "os-store-"));
  dirs.push(dir);
  return dir;
}

// A job and units as the scheduler stores them; only the fields the store reads matter here.
const job = {
  id: "j1",
  status: "running",
  createdAtMs: 1,
  spec: { matrix: { sha256: "m".repeat(64) }, rhs: [{ sha256: "r".repeat(64) }] },
} as unknown as SolveJob;
const unit = (index: number, status: string): WorkUnit =>
  ({
    id: `j1/${index}`,
    jobId: "j1",
    index,
    status,
    lease: null,
    result: null,
    history: [],
  }) as unknown as WorkUnit;

describe("FileJobStore (the Node requester's --resume store)", () => {
  it("a second process (a new store on the same directory) reads back jobs, units, results and blobs", async () => {
    const dir = tempDir();
    const first: JobStore = new FileJobStore(dir);
    await first.saveJob(job, [unit(0, "done"), unit(1, "pending")]);
    const x = new Float64Array([1.5, -2, Math.PI]);
    await first.saveResult({
      unitId: "j1/0",
      attempt: 1,
      jobId: "j1",
      volunteerId: "v",
      receivedAtMs: 2,
      xs: [x],
      relResiduals: null,
      verified: false,
      envelope: null,
    });
    await first.markResultVerified("j1/0", 1, [1e-9]);
    await first.putBlob("m".repeat(64), new Uint8Array([1, 2, 3]), 0);

    const second = new FileJobStore(dir);
    expect((await second.loadJob("j1"))?.status).toBe("running");
    expect((await second.loadUnits("j1")).map((u) => u.id)).toEqual(["j1/0", "j1/1"]);
    const verified = await second.loadVerifiedResults("j1");
    expect([...verified.keys()]).toEqual(["j1/0"]);
    expect([...verified.get("j1/0")!.xs[0]!]).toEqual([...x]);
    expect(verified.get("j1/0")!.relResiduals).toEqual([1e-9]);
    expect(await second.getBlob("m".repeat(64))).toEqual(new Uint8Array([1, 2, 3]));
    const resumed = await second.resumeState(10);
    expect(resumed.jobs.map((j) => j.id)).toEqual(["j1"]);
    expect(resumed.units).toHaveLength(2);

    await second.deleteJob("j1");
    expect(await new FileJobStore(dir).loadJob("j1")).toBeUndefined();
    expect(await second.getBlob("m".repeat(64))).toBeUndefined();
  });
});
