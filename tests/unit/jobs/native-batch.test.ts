import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import type { ResultRow, StoreBatch } from "../../../src/core/jobs/job-store.ts";
import type { WorkUnit } from "../../../src/core/jobs/model.ts";
import { resultRow } from "./helpers.ts";
import { cleanup, freshDbName, openRepo } from "./runtime-helpers.ts";

/** JobRepository.saveBatch in plain IndexedDB (storage/native-batch.ts), read back through Dexie. */
afterEach(cleanup);

const NO_CHANGES: StoreBatch["changes"] = { jobs: [], units: [], reputation: [] };

const row = (unitId: string, attempt: number): ResultRow => resultRow(unitId, attempt, "{}");

function unit(id: string): WorkUnit {
  return {
    id,
    jobId: "job-1",
    index: 0,
    attempt: 1,
    status: "done",
    requirements: { memoryBytes: 1 },
    task: { kind: "rhs-group", rhsStart: 0, rhsCount: 1 },
    costFlops: 1,
    lease: null,
    attemptsUsed: 1,
    failedBy: [],
    resultsSeen: [1],
    history: [],
    result: { volunteerId: "os-volunteer", attempt: 1, receivedAtMs: 1 } as unknown as WorkUnit["result"],
    error: null,
  };
}

describe("the requester's write batch in plain IndexedDB", () => {
  it("stores blobs, results and changes, and marks stored results verified (absent ones stay absent)", async () => {
    const repo = openRepo(freshDbName());
    await repo.saveBatch({ blobs: [], results: [row("job-1/0", 1)], verified: [], changes: NO_CHANGES });
    await repo.saveBatch({
      blobs: [{ sha256: "ab".repeat(32), bytes: Uint8Array.of(9, 8), nowMs: 5 }],
      results: [],
      verified: [
        { unitId: "job-1/0", attempt: 1, relResiduals: [1e-9] },
        { unitId: "job-1/7", attempt: 1, relResiduals: [1e-9] },
      ],
      changes: { ...NO_CHANGES, units: [unit("job-1/0")] },
    });
    const stored = await repo.loadResult("job-1/0", 1);
    expect(stored).toMatchObject({ verified: true, relResiduals: [1e-9], envelope: "{}" });
    expect(Array.from(stored!.xs[0]!)).toEqual([1, 2, 3]);
    expect(await repo.loadResult("job-1/7", 1)).toBeUndefined();
    expect(Array.from((await repo.getBlob("ab".repeat(32)))!)).toEqual([9, 8]);
    expect((await repo.loadUnits("job-1")).map((u) => u.id)).toEqual(["job-1/0"]);
  });

  it("stores nothing of a batch one of whose rows fails, and rejects", async () => {
    const repo = openRepo(freshDbName());
    const broken = { ...unit("job-1/1"), id: undefined } as unknown as WorkUnit; // no key: a DataError
    await expect(
      repo.saveBatch({
        blobs: [],
        results: [row("job-1/1", 1)],
        verified: [],
        changes: { ...NO_CHANGES, units: [broken] },
      }),
    ).rejects.toBeDefined();
    expect(await repo.loadResult("job-1/1", 1)).toBeUndefined();
  });
});
