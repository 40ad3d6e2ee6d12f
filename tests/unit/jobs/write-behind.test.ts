import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import type { ResultRow, StoreBatch } from "../../../src/core/jobs/job-store.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { WriteBehind } from "../../../src/core/jobs/requester/write-behind.ts";
import type { SchedulerChanges } from "../../../src/core/jobs/scheduler/scheduler.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { resultRow, seededRandom } from "./helpers.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";

/**
 * The requester's batched writes (requester/write-behind.ts). A delay no test reaches (an hour) keeps the
 * timer out of the way: every flush here is one the test makes, so what each batch holds is forced, not
 * left to timing.
 */
afterEach(cleanup);

const NEVER_MS = 3_600_000;
const NO_CHANGES: SchedulerChanges = { jobs: [], units: [], reputation: [] };

const row = (unitId: string, attempt: number): ResultRow => resultRow(unitId, attempt);

/** The real repository, recording each batch; `gate` (if set) holds the next save until it resolves. */
function recordingRepo() {
  const repo = openRepo(freshDbName());
  const batches: StoreBatch[] = [];
  const events: string[] = [];
  const control = { gate: null as Promise<void> | null };
  const saveBatch = repo.saveBatch.bind(repo);
  repo.saveBatch = async (batch: StoreBatch) => {
    const n = batches.push(batch);
    events.push(`start ${n}`);
    const gate = control.gate;
    control.gate = null;
    if (gate !== null) await gate;
    await saveBatch(batch);
    events.push(`end ${n}`);
  };
  return { repo, batches, events, control };
}

function input(seed: number, count: number): SubmitInput {
  const a = poisson2d(8);
  const random = seededRandom(seed);
  const rhs = Array.from({ length: count }, () =>
    Float64Array.from({ length: a.rows }, () => random() - 0.5),
  );
  return { name: `job-${seed}`, kind: "multi-rhs", a, rhs, method: "cg", tol: 1e-9, maxIter: 2_000 };
}

describe("write-behind: the requester's batched IndexedDB writes", () => {
  it("gathers a result and its verified mark into one batch: the row is stored once, verified", async () => {
    const { repo, batches } = recordingRepo();
    const writes = new WriteBehind({ store: repo, drainChanges: () => NO_CHANGES, delayMs: NEVER_MS });
    writes.putResult(row("u1", 1));
    writes.putResult(row("u2", 1));
    writes.markVerified({ unitId: "u1", attempt: 1, relResiduals: [1e-10] });
    expect(batches).toHaveLength(0); // nothing written before the flush
    await writes.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.results.map((r) => [r.unitId, r.verified])).toEqual([
      ["u1", true],
      ["u2", false],
    ]);
    expect(batches[0]!.verified).toEqual([]);
    expect((await repo.loadResult("u1", 1))?.relResiduals).toEqual([1e-10]);
    expect((await repo.loadResult("u2", 1))?.verified).toBe(false);
  });

  it("keeps flushes in order: a mark after its row's flush waits for that flush, however slow", async () => {
    const { repo, batches, events, control } = recordingRepo();
    const writes = new WriteBehind({ store: repo, drainChanges: () => NO_CHANGES, delayMs: NEVER_MS });
    let release = () => undefined as void;
    control.gate = new Promise<void>((resolve) => (release = resolve));
    writes.putResult(row("u1", 1));
    const first = writes.flush(); // held at the gate
    writes.markVerified({ unitId: "u1", attempt: 1, relResiduals: [2e-10] });
    const second = writes.flush();
    // The second batch is an update of the stored row (its row left with the first batch).
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(["start 1"]);
    release();
    await Promise.all([first, second]);
    expect(events).toEqual(["start 1", "end 1", "start 2", "end 2"]);
    expect(batches[1]!.results).toEqual([]);
    expect(batches[1]!.verified).toEqual([{ unitId: "u1", attempt: 1, relResiduals: [2e-10] }]);
    const stored = await repo.loadResult("u1", 1);
    expect(stored?.verified).toBe(true);
    expect(stored?.relResiduals).toEqual([2e-10]);
  });

  it("stored() resolves only once the batch holding what was queued is in the store", async () => {
    const { repo, events } = recordingRepo();
    const writes = new WriteBehind({ store: repo, drainChanges: () => NO_CHANGES, delayMs: NEVER_MS });
    writes.putResult(row("u1", 1));
    let stored = false;
    const waiting = writes.stored().then(() => (stored = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(stored).toBe(false);
    await writes.flush();
    await waiting;
    expect(events).toEqual(["start 1", "end 1"]);
    expect(await repo.loadResult("u1", 1)).toBeDefined();
  });

  it("a requester closed before its timer fired still stores every verified result (flush on close)", async () => {
    const [peer] = await startPeers(1);
    const name = freshDbName();
    const rt = await startRequester(peer!, openRepo(name), { flushMs: NEVER_MS });
    const id = await rt.submit(input(1, 4));
    await until(() => rt.scheduler.job(id)?.status === "done");
    const before = openRepo(name);
    // Only the submit's own flush happened: the results are not stored yet.
    expect((await before.loadVerifiedResults(id)).size).toBe(0);
    rt.close(); // no flush() here: close alone must store what is queued
    const after = openRepo(name);
    for (let i = 0; i < 250 && (await after.loadJob(id))?.status !== "done"; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await after.loadJob(id))?.status).toBe("done");
    const units = await after.loadUnits(id);
    expect(units.map((u) => u.status)).toEqual(["done", "done", "done", "done"]);
    expect((await after.loadVerifiedResults(id)).size).toBe(4);
  });

  it("a crash before the flush loses the moment whole: the reload reissues, nothing is done without its result", async () => {
    const [peer] = await startPeers(1);
    const name = freshDbName();
    const rt = await startRequester(peer!, openRepo(name), { flushMs: NEVER_MS });
    const id = await rt.submit(input(2, 3));
    await until(() => rt.scheduler.job(id)?.status === "done");
    // The "crash": the tab is gone without a flush; a new session opens the same database.
    const reloaded = openRepo(name);
    const state = await reloaded.resumeState(Date.now());
    const verified = await reloaded.loadVerifiedResults(id);
    expect(state.jobs.map((j) => j.id)).toEqual([id]);
    for (const u of state.units) {
      if (u.status === "done") expect(verified.has(u.id)).toBe(true);
      else expect(u.lease).toBeNull();
    }
    expect(state.units.filter((u) => u.status === "pending")).toHaveLength(3);
  });
});
