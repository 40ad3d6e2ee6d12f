import { afterEach, describe, expect, it } from "vitest";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import type { UnitSolver } from "../../../src/core/jobs/volunteer/unit-solver.ts";
import { seededRandom } from "../../../src/core/base/seeded-random.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply } from "../../../src/core/sparse/ops.ts";
import { createJobsStore } from "../../../src/state/jobs/store.ts";
import { submissionToInput } from "../../../src/state/jobs/submission.ts";
import { jobsViews } from "../../../src/state/jobs/views.ts";
import {
  CAPS,
  cleanup,
  coreUnitSolver,
  freshDbName,
  openRepo,
  startPeers,
  startRequester,
  until,
} from "./runtime-helpers.ts";
import { VolunteerRuntime } from "../../../src/core/jobs/volunteer/index.ts";

afterEach(cleanup);

// What the Dashboard reads about swarm jobs (src/state/jobs/views.ts and the store), against real runtimes
// over the in-memory mesh and fake-indexeddb (runtime-helpers.ts). Issue 11: items 4, 6, 7, 11, 12.

function multiRhs(count: number, seed = 1): SubmitInput {
  const a = poisson2d(12);
  const random = seededRandom(seed);
  const rhs = Array.from({ length: count }, () =>
    Float64Array.from({ length: a.rows }, () => random() - 0.5),
  );
  return { name: "poisson2d-12", kind: "multi-rhs", a, rhs, method: "cg", tol: 1e-9, maxIter: 2_000 };
}

function relResidual(a: ReturnType<typeof poisson2d>, x: Float64Array, b: Float64Array): number {
  const ax = multiply(a, x);
  let rr = 0;
  let bb = 0;
  for (let i = 0; i < b.length; i++) {
    rr += (b[i]! - ax[i]!) ** 2;
    bb += b[i]! ** 2;
  }
  return Math.sqrt(rr / bb);
}

/**
 * A solver whose first progress report says "iteration 10, residual 10.3" (like a hybrid's Krylov stage
 * before it ends in a direct solve) and that then holds until `release()` before solving for real.
 */
function stagedSolver(): UnitSolver & { release(): void; reported: Promise<void> } {
  const inner = coreUnitSolver();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let reportedResolve: () => void = () => undefined;
  const reported = new Promise<void>((r) => (reportedResolve = r));
  return {
    release: () => release(),
    reported,
    async solve(a, b, options, call) {
      call.onProgress({ iteration: 10, relResidual: 10.3 });
      reportedResolve();
      await gate;
      return inner.solve(a, b, options, { signal: call.signal, onProgress: () => undefined });
    },
    dispose: () => undefined,
  };
}

describe("unit views (item 4)", () => {
  it("show progress as progress while running, and the result's final state once verified", async () => {
    const [requester, vol] = await startPeers(2);
    requester!.volunteer!.close();
    requester!.volunteer = null;
    vol!.volunteer!.close();
    const solver = stagedSolver();
    vol!.volunteer = new VolunteerRuntime({
      link: vol!.link,
      cache: vol!.cache,
      solver,
      fault: null,
      progressIntervalMs: 0,
    });
    const rt = await startRequester(requester!, openRepo(freshDbName()), {
      volunteers: () => [{ peerId: vol!.mesh.peerId, capabilities: CAPS }],
    });
    const id = await rt.submit({ ...multiRhs(1), kind: "solve" });
    await solver.reported;
    await until(() => jobsViews(rt).units[id]?.[0]?.iteration === 10);
    const running = jobsViews(rt).units[id]![0]!;
    expect(running.reported).toBe("progress");
    expect(running.residual).toBe(10.3);

    solver.release();
    await until(() => rt.scheduler.job(id)?.status !== "running");
    const done = jobsViews(rt).units[id]![0]!;
    expect(done.status).toBe("done");
    expect(done.reported).toBe("result");
    // The result's own final state, not the last progress report (iteration 10, residual 10.3).
    expect(done.iteration).toBeGreaterThan(10);
    expect(done.residual).not.toBeNull();
    expect(done.residual!).toBeLessThanOrEqual(1e-9);
    expect(done.relResidual!).toBeLessThanOrEqual(1e-9);
  });
});

describe("per-job volunteers (item 11)", () => {
  it("count each volunteer's units on this job, not its totals over every job", async () => {
    const peers = await startPeers(3);
    const rt = await startRequester(peers[0]!, openRepo(freshDbName()));
    const first = await rt.submit(multiRhs(6, 1));
    await until(() => rt.scheduler.job(first)?.status !== "running");
    const second = await rt.submit(multiRhs(4, 2));
    await until(() => rt.scheduler.job(second)?.status !== "running");
    const views = jobsViews(rt);
    for (const [id, count] of [
      [first, 6],
      [second, 4],
    ] as const) {
      const list = views.jobVolunteers[id]!;
      expect(list.reduce((sum, v) => sum + v.unitsVerified, 0)).toBe(count);
      for (const v of list) {
        const mine = rt.units(id).filter((u) => u.result?.volunteerId === v.peerId).length;
        expect(v.unitsVerified).toBe(mine);
      }
    }
    // The totals over both jobs are there too, labelled as such (reputation).
    const totals = views.jobVolunteers[second]!.reduce((sum, v) => sum + v.totalValid, 0);
    expect(totals).toBeGreaterThan(4);
  });
});

describe("after a reload (item 6)", () => {
  it("a finished job keeps its worst residual, chart and unit claims; the running job is selected", async () => {
    const [peer] = await startPeers(1);
    const name = freshDbName();
    let skewMs = 0;
    let offline = false;
    const first = await startRequester(peer!, openRepo(name), {
      nowMs: () => Date.now() + skewMs,
      volunteers: () => (offline ? [] : [{ peerId: peer!.mesh.peerId, capabilities: CAPS }]),
    });
    const finished = await first.submit(multiRhs(3));
    await until(() => first.scheduler.job(finished)?.status !== "running");
    await until(() => first.savedWorstResidual(finished) !== null);
    const before = jobsViews(first);
    const worst = before.jobs.find((j) => j.id === finished)!.worstRelResidual;
    expect(worst).not.toBeNull();
    expect(before.residualSeries[finished]!.length).toBeGreaterThan(0);
    // An older job still running at the reload (no volunteer reachable): it is the one to show.
    offline = true;
    skewMs = -60_000;
    const running = await first.submit(multiRhs(2, 5));
    await first.flush();
    first.close();

    const second = await startRequester(peer!, openRepo(name), { volunteers: () => [] });
    const store = createJobsStore();
    store.attach(second);
    expect(store.getState().selectedJobId).toBe(running);
    // The list shows the worst certificate without loading the finished job's units.
    const row = store.getState().jobs.find((j) => j.id === finished)!;
    expect(second.units(finished)).toHaveLength(0);
    expect(row.worstRelResidual).toBe(worst);
    // Its detail: chart and the units' final state come back with its units.
    store.getState().actions.select(finished);
    await until(() => (store.getState().units[finished]?.length ?? 0) === 3);
    const after = store.getState();
    expect(after.residualSeries[finished]).toEqual(before.residualSeries[finished]);
    expect(after.units[finished]!.map((u) => [u.iteration, u.residual, u.reported])).toEqual(
      before.units[finished]!.map((u) => [u.iteration, u.residual, u.reported]),
    );
    expect(after.units[finished]!.every((u) => u.reported === "result")).toBe(true);
  });

  it("with no running job, the newest is selected", async () => {
    const [peer] = await startPeers(1);
    const name = freshDbName();
    const first = await startRequester(peer!, openRepo(name));
    const older = await first.submit(multiRhs(1, 1));
    await until(() => first.scheduler.job(older)?.status !== "running");
    const newer = await first.submit(multiRhs(1, 2));
    await until(() => first.scheduler.job(newer)?.status !== "running");
    await first.flush();
    first.close();
    const store = createJobsStore();
    store.attach(await startRequester(peer!, openRepo(name)));
    expect(store.getState().selectedJobId).toBe(newer);
  });
});

describe("right-hand sides and certificates (item 12)", () => {
  it("random b come from a seed the job shows; b and each x's certified residual can be read back", async () => {
    const [peer] = await startPeers(1);
    const name = freshDbName();
    const rt = await startRequester(peer!, openRepo(name));
    const input = submissionToInput(
      {
        name: "random b",
        kind: "multi-rhs",
        matrix: { kind: "generated", name: "poisson2d-12" },
        rhs: { kind: "random", count: 3 },
        method: "cg",
        tol: 1e-9,
        maxIter: 2_000,
      },
      seededRandom(99),
    );
    expect(input.rhsSeed).toBeTypeOf("number");
    // Anyone can make b again from the seed.
    const again = seededRandom(input.rhsSeed!);
    for (const b of input.rhs) for (const v of b) expect(v).toBe(again() * 2 - 1);

    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running");
    expect(jobsViews(rt).jobs.find((j) => j.id === id)!.rhsSeed).toBe(input.rhsSeed);
    const bs = await rt.rightHandSides(id);
    expect(bs).toEqual(input.rhs);
    const { xs, relResiduals } = await rt.certifiedSolutions(id);
    expect(relResiduals).toHaveLength(3);
    xs.forEach((x, k) => {
      expect(relResiduals[k]!).toBeLessThanOrEqual(1e-9);
      expect(relResidual(input.a, x, bs[k]!)).toBeCloseTo(relResiduals[k]!, 12);
    });
    rt.close();
    // The seed survives a reload.
    const second = await startRequester(peer!, openRepo(name), { volunteers: () => [] });
    expect(second.rhsSeed(id)).toBe(input.rhsSeed);
  });

  it("an explicit seed gives the same b every time", () => {
    const sub = {
      name: "s",
      kind: "multi-rhs",
      matrix: { kind: "generated", name: "poisson2d-12" },
      rhs: { kind: "random", count: 2, seed: 1234 },
      method: "cg",
      tol: 1e-8,
      maxIter: 100,
    } as const;
    const a = submissionToInput(sub, Math.random);
    const b = submissionToInput(sub, Math.random);
    expect(a.rhsSeed).toBe(1234);
    expect(a.rhs).toEqual(b.rhs);
  });
});

describe("errors in the store (item 7)", () => {
  it("a failed submission sets the error with its code; a successful one clears it; so does leaving", async () => {
    const [peer] = await startPeers(1);
    const store = createJobsStore();
    store.attach(await startRequester(peer!, openRepo(freshDbName())));
    const { actions } = store.getState();
    const bad = {
      name: "empty",
      kind: "solve",
      matrix: { kind: "matrix-market", text: "" },
      rhs: { kind: "ones" },
      method: "cg",
      tol: 1e-8,
      maxIter: 100,
    } as const;
    await expect(actions.submit(bad)).rejects.toThrow("the matrix file is empty");
    expect(store.getState()).toMatchObject({
      lastError: "the matrix file is empty",
      lastErrorCode: "invalid_spec",
    });
    await actions.submit({ ...bad, matrix: { kind: "generated", name: "poisson2d-12" } });
    expect(store.getState()).toMatchObject({ lastError: null, lastErrorCode: null });
    await expect(actions.submit(bad)).rejects.toThrow();
    actions.clearError();
    expect(store.getState().lastError).toBeNull();
  });

  it("'jobs are unavailable' stays: clearing does not hide that nothing works", () => {
    const store = createJobsStore();
    store.fail(new Error("no IndexedDB"));
    store.getState().actions.clearError();
    expect(store.getState().lastError).toBe("jobs are unavailable: no IndexedDB");
  });
});
