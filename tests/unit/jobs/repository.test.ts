import "fake-indexeddb/auto";
import { Dexie } from "dexie";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeCsr,
  decodeVector,
  encodeCsr,
  encodeVector,
  blobRefOf,
} from "../../../src/core/jobs/payload.ts";
import { ReputationBook } from "../../../src/core/trust/reputation.ts";
import { Scheduler } from "../../../src/core/jobs/scheduler/scheduler.ts";
import { planJob } from "../../../src/core/jobs/split.ts";
import { verifySolveResult } from "../../../src/core/jobs/verify.ts";
import { OpenSwarmDb } from "../../../src/core/storage/db.ts";
import { JobRepository } from "../../../src/core/storage/job-repository.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { assigns, loadMatrix, ManualClock, ofType, seededRandom, volunteer } from "./helpers.ts";

// fake-indexeddb is a complete in-memory IndexedDB for Node (structured clone included): the same code
// path as a browser's IndexedDB, which is what these tests need. A "reload" is a new OpenSwarmDb and a new
// repository on the same database name, with nothing carried over in memory.
const opened: Dexie[] = [];
function openDb(name: string): OpenSwarmDb {
  const db = new OpenSwarmDb(name);
  opened.push(db);
  return db;
}
afterAll(async () => {
  for (const db of opened) db.close();
});

function multiply(a: CsrMatrix, v: Float64Array): Float64Array {
  const y = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) y[i] = y[i]! + a.values[k]! * v[a.colIdx[k]!]!;
  }
  return y;
}

const TOL = 1e-8;

describe("JobRepository: resume after a reload", () => {
  it("restores the job, keeps verified units done (never recomputed) and reissues leased ones", async () => {
    const a = loadMatrix("494_bus");
    const rnd = seededRandom(42);
    const rhs = Array.from({ length: 6 }, () =>
      multiply(
        a,
        Float64Array.from({ length: a.rows }, () => rnd()),
      ),
    );
    const solveCount = new Map<number, number>();
    const compute = (j: number): Float64Array => {
      solveCount.set(j, (solveCount.get(j) ?? 0) + 1);
      return solve(a, rhs[j]!, { method: "cg", preconditioner: "ic0", tol: TOL, maxIter: 5000 }).x;
    };

    // ── Before the reload ──
    const clock = new ManualClock();
    const db1 = openDb("resume-1");
    const repo1 = new JobRepository(db1);
    const matrixBytes = encodeCsr(a);
    const matrixRef = await blobRefOf(matrixBytes);
    await repo1.putBlob(matrixRef.sha256, matrixBytes, clock.ms);
    const rhsRefs = [];
    for (const b of rhs) {
      const bytes = encodeVector(b);
      const r = await blobRefOf(bytes);
      await repo1.putBlob(r.sha256, bytes, clock.ms);
      rhsRefs.push(r);
    }
    const plan = planJob({
      id: "resumeJob",
      kind: "multi-rhs",
      spec: {
        matrix: { ...matrixRef, rows: a.rows, cols: a.cols, nnz: a.rowPtr[a.rows]! },
        rhs: rhsRefs,
        method: "cg",
        preconditioner: "ic0",
        maxIter: 5000,
      },
      tolerance: TOL,
      createdAtMs: clock.ms,
    });
    const s1 = new Scheduler({ nowMs: clock.now, random: seededRandom(1), reputation: new ReputationBook() });
    s1.addJob(plan.job, plan.units);
    s1.volunteersChanged([volunteer(1), volunteer(2)]);
    const first = assigns(s1.tick());
    expect(first).toHaveLength(4);
    clock.advance(100);
    // Units 0 and 1: returned, stored, verified. Unit 2: returned and stored, not yet verified. Unit 3: leased.
    for (const w of first) {
      const index = s1.unit(w.unitId)!.index;
      if (index === 3) continue;
      const x = compute(index);
      expect(s1.onResult(w.unitId, w.attempt, w.volunteerId)).toBe("accept-for-verification");
      await repo1.saveResult({
        unitId: w.unitId,
        attempt: w.attempt,
        jobId: w.jobId,
        volunteerId: w.volunteerId,
        receivedAtMs: clock.ms,
        xs: [x],
        relResiduals: null,
        verified: false,
        envelope: null,
      });
      if (index === 2) continue;
      const v = verifySolveResult(a, rhs[index]!, x, TOL);
      expect(v.ok).toBe(true);
      await repo1.markResultVerified(w.unitId, w.attempt, [v.relResidual]);
      s1.onVerified(w.unitId, w.attempt, { ok: true });
    }
    await repo1.saveChanges(s1.drainChanges());
    const leased3 = first.find((w) => w.unitId === "resumeJob/3")!;
    db1.close();

    // ── The reload: new database handle, new repository, new scheduler ──
    clock.advance(5_000);
    const repo2 = new JobRepository(openDb("resume-1"));
    const state = await repo2.resumeState(clock.ms);
    expect(state.jobs.map((j) => [j.id, j.status])).toEqual([["resumeJob", "running"]]);
    expect(state.units.map((u) => u.status)).toEqual([
      "done",
      "done",
      "verifying",
      "pending",
      "pending",
      "pending",
    ]);
    expect(state.reverify).toEqual([{ unitId: "resumeJob/2", attempt: 1, volunteerId: expect.any(String) }]);
    expect(state.units[3]!.history).toEqual([
      expect.objectContaining({ outcome: "requester-restarted", attempt: 1, charged: false }),
    ]);
    expect(state.reputation.reduce((n, r) => n + r.totalValid, 0)).toBe(2);
    // A second reload sees the same, already normalised state.
    const again = await repo2.resumeState(clock.ms + 1);
    expect(again.units).toEqual(state.units);

    // Inputs come back from IndexedDB, so the job survives closing every tab.
    const a2 = decodeCsr((await repo2.getBlob(state.jobs[0]!.spec.matrix.sha256))!);
    expect(a2.values).toEqual(a.values);
    const rhs2 = await Promise.all(
      state.jobs[0]!.spec.rhs.map(async (r) => decodeVector((await repo2.getBlob(r.sha256))!, a.rows)),
    );
    expect(rhs2).toEqual(rhs);

    const s2 = new Scheduler({
      nowMs: clock.now,
      random: seededRandom(2),
      reputation: new ReputationBook(state.reputation),
    });
    s2.restore(state);
    for (const item of state.reverify) {
      const row = (await repo2.loadResult(item.unitId, item.attempt))!;
      expect(row.xs[0]).toBeInstanceOf(Float64Array);
      const index = s2.unit(item.unitId)!.index;
      const v = verifySolveResult(a2, rhs2[index]!, row.xs[0]!, TOL);
      await repo2.markResultVerified(item.unitId, item.attempt, [v.relResidual]);
      expect(
        s2.onVerified(
          item.unitId,
          item.attempt,
          v.ok ? { ok: true } : { ok: false, code: "invalid", reason: v.reason },
        ),
      ).toBe(true);
    }
    s2.volunteersChanged([volunteer(1), volunteer(2)]);
    const reassigned: string[] = [];
    let finished = false;
    for (let round = 0; round < 20 && !finished; round++) {
      const actions = s2.tick();
      finished = ofType(actions, "job-finished").length > 0;
      for (const w of assigns(actions)) {
        reassigned.push(w.unitId);
        const index = s2.unit(w.unitId)!.index;
        const x = compute(index);
        expect(s2.onResult(w.unitId, w.attempt, w.volunteerId)).toBe("accept-for-verification");
        await repo2.saveResult({
          unitId: w.unitId,
          attempt: w.attempt,
          jobId: w.jobId,
          volunteerId: w.volunteerId,
          receivedAtMs: clock.ms,
          xs: [x],
          relResiduals: null,
          verified: false,
          envelope: null,
        });
        const v = verifySolveResult(a2, rhs2[index]!, x, TOL);
        await repo2.markResultVerified(w.unitId, w.attempt, [v.relResidual]);
        s2.onVerified(w.unitId, w.attempt, { ok: true });
      }
      await repo2.saveChanges(s2.drainChanges());
    }
    expect(finished).toBe(true);
    expect(reassigned.sort()).toEqual(["resumeJob/3", "resumeJob/4", "resumeJob/5"]);
    // Verified before the reload (0, 1) and stored before it (2): computed exactly once.
    expect([0, 1, 2].map((j) => solveCount.get(j))).toEqual([1, 1, 1]);
    // The old attempt of unit 3 is over: its result, arriving now, is ignored.
    expect(s2.onResult(leased3.unitId, 1, leased3.volunteerId)).toBe("ignored-late");

    const results = await repo2.loadVerifiedResults("resumeJob");
    expect([...results.keys()].sort()).toEqual(plan.units.map((u) => `resumeJob/${u.index}`));
    for (const [unitId, row] of results) {
      const index = Number(unitId.split("/")[1]);
      expect(verifySolveResult(a, rhs[index]!, row.xs[0]!, TOL).ok).toBe(true);
      expect(row.relResiduals![0]).toBeLessThanOrEqual(TOL);
    }
    expect((await repo2.loadJob("resumeJob"))!.status).toBe("done");
    expect((await repo2.resumeState(clock.ms)).jobs).toEqual([]);
  });

  it("re-computes a unit whose result was accepted but never stored", async () => {
    const clock = new ManualClock();
    const repo = new JobRepository(openDb("resume-2"));
    const plan = planJob({
      id: "j",
      kind: "solve",
      spec: {
        matrix: { sha256: "a".repeat(64), byteLength: 1, rows: 2, cols: 2, nnz: 2 },
        rhs: [{ sha256: "b".repeat(64), byteLength: 1 }],
        method: "cg",
        maxIter: 10,
      },
      tolerance: 1e-8,
      createdAtMs: 0,
    });
    const s = new Scheduler({ nowMs: clock.now, random: seededRandom(1) });
    s.addJob(plan.job, plan.units);
    s.volunteersChanged([volunteer(1)]);
    const [w] = assigns(s.tick());
    s.onResult(w!.unitId, w!.attempt, w!.volunteerId);
    await repo.saveChanges(s.drainChanges());
    const state = await new JobRepository(openDb("resume-2")).resumeState(clock.ms);
    expect(state.reverify).toEqual([]);
    expect(state.units[0]).toMatchObject({ status: "pending", result: null, attempt: 1 });
  });
});

describe("JobRepository: storage", () => {
  it("upgrades a version-1 database without losing the identity table", async () => {
    const name = "upgrade-1";
    const v1 = new Dexie(name);
    v1.version(1).stores({ identity: "id" });
    await v1
      .table("identity")
      .put({ id: "self", keyPair: { note: "structured clone" }, peerId: "os1", createdAtMs: 3 });
    v1.close();
    const db = openDb(name);
    expect(await db.identity.get("self")).toMatchObject({ peerId: "os1", createdAtMs: 3 });
    expect(db.verno).toBe(3);
    expect(await db.jobs.count()).toBe(0);
    expect(await db.expertHosts.count()).toBe(0);
  });

  it("lists jobs newest first and deletes a job with its units and results", async () => {
    const repo = new JobRepository(openDb("list-1"));
    const mk = (id: string, createdAtMs: number) =>
      planJob({
        id,
        kind: "solve",
        spec: {
          matrix: { sha256: "a".repeat(64), byteLength: 1, rows: 2, cols: 2, nnz: 2 },
          rhs: [{ sha256: "b".repeat(64), byteLength: 1 }],
          method: "cg",
          maxIter: 10,
        },
        tolerance: 1e-8,
        createdAtMs,
      });
    const s = new Scheduler({ nowMs: () => 0, random: () => 0.5 });
    for (const [id, t] of [
      ["old", 1],
      ["new", 3],
      ["mid", 2],
    ] as const) {
      const p = mk(id, t);
      s.addJob(p.job, p.units);
    }
    await repo.saveChanges(s.drainChanges());
    expect((await repo.listJobs()).map((j) => j.id)).toEqual(["new", "mid", "old"]);
    expect((await repo.listJobs(1)).map((j) => j.id)).toEqual(["new"]);
    await repo.saveResult({
      unitId: "mid/0",
      attempt: 1,
      jobId: "mid",
      volunteerId: "v",
      receivedAtMs: 0,
      xs: [Float64Array.from([1, 2])],
      relResiduals: null,
      verified: true,
      envelope: null,
    });
    expect((await repo.loadResult("mid/0", 1))!.xs[0]).toEqual(Float64Array.from([1, 2]));
    await repo.deleteJob("mid");
    expect(await repo.loadJob("mid")).toBeUndefined();
    expect(await repo.loadUnits("mid")).toEqual([]);
    expect(await repo.loadResult("mid/0", 1)).toBeUndefined();
    expect((await repo.loadUnits("new")).map((u) => u.id)).toEqual(["new/0"]);
  });
});
