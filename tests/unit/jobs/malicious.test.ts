import { describe, expect, it } from "vitest";
import { planJob } from "../../../src/core/jobs/split.ts";
import { verifySolveResult } from "../../../src/core/jobs/verify.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import {
  assigns,
  CPU,
  loadMatrix,
  ManualClock,
  newScheduler,
  ofType,
  peerId,
  seededRandom,
  spec,
} from "./helpers.ts";
import type { Scheduler, SchedulerAction } from "../../../src/core/jobs/scheduler/scheduler.ts";

const TOL = 1e-8;

function multiply(a: CsrMatrix, v: Float64Array): Float64Array {
  const y = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) s += a.values[k]! * v[a.colIdx[k]!]!;
    y[i] = s;
  }
  return y;
}

describe("a lying volunteer (fault injection) on 494_bus", () => {
  const a = loadMatrix("494_bus");
  const rnd = seededRandom(494);
  const rhs = Array.from({ length: 12 }, () =>
    multiply(
      a,
      Float64Array.from({ length: a.rows }, () => rnd() - 0.5),
    ),
  );
  const honestCache = new Map<number, Float64Array>();
  const honestSolve = (j: number): Float64Array => {
    let x = honestCache.get(j);
    if (x === undefined) {
      const r = solve(a, rhs[j]!, { method: "cg", preconditioner: "ic0", tol: TOL, maxIter: 5000 });
      expect(r.converged).toBe(true);
      x = r.x;
      honestCache.set(j, x);
    }
    return x;
  };
  const LIAR = peerId(666);
  /**
   * FAULT INJECTION (test-only): this volunteer returns the honest solution with a small relative
   * perturbation (1e-4), i.e. a plausible-looking vector that is not a solution.
   */
  const noise = seededRandom(7);
  const faultInjectingVolunteerResult = (j: number): Float64Array =>
    honestSolve(j).map((v) => v * (1 + 1e-4 * (noise() - 0.5)));

  it("gets every result rejected, loses its reputation, stops receiving units; the jobs complete", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 3);
    s.volunteersChanged([
      { peerId: peerId(1), capabilities: CPU },
      { peerId: peerId(2), capabilities: CPU },
      // The liar announces the best benchmark, so the scheduler prefers it at first (the worst case).
      { peerId: LIAR, capabilities: { ...CPU, benchmarkMflops: 50_000 } },
    ]);
    const submit = (id: string) => {
      const plan = planJob({
        id,
        kind: "multi-rhs",
        spec: spec({ preconditioner: "ic0", maxIter: 5000 }, rhs.length, a.rows, a.rowPtr[a.rows]!),
        tolerance: TOL,
        createdAtMs: clock.ms,
      });
      s.addJob(plan.job, plan.units);
    };
    submit("job1");

    const stats = { liarResults: 0, liarRejected: 0, accepted: 0, liarAssignsAfterBan: 0 };
    let bannedAt: number | null = null;
    const finished: SchedulerAction[] = [];
    const run = (sched: Scheduler) => {
      for (let round = 0; round < 200; round++) {
        const actions = sched.tick();
        finished.push(...ofType(actions, "job-finished"));
        const work = assigns(actions);
        if (work.length === 0 && ofType(actions, "job-finished").length === 0) return;
        // Assignments made by this tick, after the ban: there must be none for the liar.
        if (bannedAt !== null) stats.liarAssignsAfterBan += work.filter((w) => w.volunteerId === LIAR).length;
        for (const w of work) {
          clock.advance(50);
          const j = sched.unit(w.unitId)!.index;
          const x = w.volunteerId === LIAR ? faultInjectingVolunteerResult(j) : honestSolve(j);
          const verdict = sched.onResult(w.unitId, w.attempt, w.volunteerId);
          if (verdict !== "accept-for-verification") {
            // Only possible for the liar's other unit of this batch, taken back when it got banned.
            expect([verdict, w.volunteerId, bannedAt !== null]).toEqual(["ignored-late", LIAR, true]);
            continue;
          }
          const v = verifySolveResult(a, rhs[j]!, x, TOL);
          if (w.volunteerId === LIAR) {
            stats.liarResults++;
            if (!v.ok) stats.liarRejected++;
          }
          if (v.ok) {
            stats.accepted++;
            expect(v.relResidual).toBeLessThanOrEqual(TOL);
            expect(w.volunteerId).not.toBe(LIAR); // no wrong result is ever accepted
          } else {
            expect(v.code).toBe("above_tolerance");
          }
          sched.onVerified(
            w.unitId,
            w.attempt,
            v.ok ? { ok: true } : { ok: false, code: "invalid", reason: v.reason },
          );
          if (bannedAt === null && sched.reputation.isBanned(LIAR, clock.ms)) bannedAt = clock.ms;
        }
      }
    };
    run(s);

    expect(stats.liarResults).toBeGreaterThanOrEqual(3);
    expect(stats.liarRejected).toBe(stats.liarResults);
    expect(stats.accepted).toBe(rhs.length);
    expect(bannedAt).not.toBeNull();
    expect(stats.liarAssignsAfterBan).toBe(0);
    const rep = s.reputation.get(LIAR);
    expect(rep).toMatchObject({ consecutiveValid: 0, totalValid: 0 });
    expect(rep.totalInvalid).toBe(stats.liarResults);
    expect(s.volunteers().find((v) => v.peerId === LIAR)!.banned).toBe(true);
    expect(s.unitsOf("job1").every((u) => u.status === "done")).toBe(true);
    expect(finished).toEqual([expect.objectContaining({ jobId: "job1", status: "done" })]);

    // A later job: the banned volunteer gets nothing, even as the fastest announced volunteer.
    submit("job2");
    run(s);
    expect(stats.liarAssignsAfterBan).toBe(0);
    expect(s.job("job2")!.status).toBe("done");
    expect(s.reputation.get(peerId(1)).totalInvalid + s.reputation.get(peerId(2)).totalInvalid).toBe(0);
  });
});
