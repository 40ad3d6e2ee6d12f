import { describe, expect, it } from "vitest";
import { checkUnitResult } from "../../../src/core/jobs/requester/result-check.ts";
import type { UnitSolution } from "../../../src/core/protocol/jobs.ts";
import type { Scheduler, VerificationVerdict } from "../../../src/core/jobs/scheduler/scheduler.ts";
import { advertisedSpeedCap, newVolunteerState } from "../../../src/core/jobs/scheduler/volunteers.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import {
  addPlan,
  assigns,
  CPU,
  ManualClock,
  multiRhsPlan,
  newScheduler,
  peerId,
  volunteer,
} from "./helpers.ts";

// Griefers (test-only lying clients, simulated here by their answers): volunteers that announce a huge
// benchmark to attract work and answer "did not converge". The requester's own residual check and the
// scheduler's judgement of claims (scheduler/claims.ts) must make them pay and keep the job alive.

const TOL = 1e-8;
const A = poisson2d(12);
const B = Float64Array.from({ length: A.rows }, (_, i) => 1 + (i % 5));
const GOOD = solve(A, B, { method: "cg", tol: TOL, maxIter: 1000 }).x;
const claim = (converged: boolean, relResidual: number | null): UnitSolution[] => [
  { x: { sha256: "0".repeat(64), byteLength: 0 }, converged, iterations: 3, relResidual, methodPath: [] },
];

/** What the requester concludes about a griefer's x = 0 "not converged, residual 1". */
const griefVerdict = (): VerificationVerdict =>
  checkUnitResult(A, [B], [new Float64Array(A.rows)], claim(false, 1), TOL).verdict;
/** A griefer that ran a few iterations and says so, with its true residual: looks honest. */
const stallX = solve(A, B, { method: "cg", tol: TOL, maxIter: 5 }).x;
const stallVerdict = (): VerificationVerdict => {
  const rel = checkUnitResult(A, [B], [stallX], claim(false, null), TOL).relResiduals[0]!;
  return checkUnitResult(A, [B], [stallX], claim(false, rel), TOL).verdict;
};
const honestVerdict = (): VerificationVerdict =>
  checkUnitResult(A, [B], [GOOD], claim(true, 1e-9), TOL).verdict;

/** Runs the scheduler until no job runs: every assignment answered at once with `answer(volunteer)`. */
function drive(s: Scheduler, clock: ManualClock, answer: (volunteerId: string) => VerificationVerdict) {
  const received = new Map<string, number>();
  for (let round = 0; round < 200 && s.jobs().some((j) => j.status === "running"); round++) {
    const actions = assigns(s.tick());
    for (const a of actions) {
      received.set(a.volunteerId, (received.get(a.volunteerId) ?? 0) + 1);
      clock.advance(10);
      // An earlier verdict of this batch may have banned the volunteer and taken the unit back.
      if (s.onResult(a.unitId, a.attempt, a.volunteerId, 1e6) !== "accept-for-verification") continue;
      s.onVerified(a.unitId, a.attempt, answer(a.volunteerId));
    }
    if (actions.length === 0) clock.advance(1_000);
  }
  return received;
}

describe("griefing solves (issue 10, item 7)", () => {
  it("x = 0 'not converged, residual 1' is an invalid result (no progress), whatever it claims", () => {
    const v = griefVerdict();
    expect(v).toMatchObject({ ok: false, code: "invalid" });
    expect(v.ok ? "" : v.reason).toMatch(/made no progress/);
    // A real partial solve reported with its true residual is still a "not converged" claim.
    expect(stallVerdict()).toMatchObject({ ok: false, code: "not_converged" });
    expect(honestVerdict()).toEqual({ ok: true });
  });

  it("two griefers with a huge benchmark that get work first: banned, and the job completes", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 12));
    const griefers = [peerId(8), peerId(9)];
    // Forced: only the griefers are there when the job starts, so they get its first units.
    s.volunteersChanged(
      griefers.map((id) => ({ peerId: id, capabilities: { ...CPU, benchmarkMflops: 1e7 } })),
    );
    const first = assigns(s.tick());
    expect(new Set(first.map((a) => a.volunteerId))).toEqual(new Set(griefers));
    for (const a of first) {
      s.onResult(a.unitId, a.attempt, a.volunteerId);
      s.onVerified(a.unitId, a.attempt, griefVerdict());
    }
    s.volunteersChanged([
      ...griefers.map((id) => ({ peerId: id, capabilities: { ...CPU, benchmarkMflops: 1e7 } })),
      volunteer(1),
      volunteer(2),
    ]);
    const received = drive(s, clock, (id) => (griefers.includes(id) ? griefVerdict() : honestVerdict()));
    expect(s.job("job1")!.status).toBe("done");
    expect(
      s.unitsOf("job1").every((u) => u.status === "done" && !griefers.includes(u.result!.volunteerId)),
    ).toBe(true);
    for (const id of griefers) {
      expect(s.reputation.get(id)).toMatchObject({ totalValid: 0, consecutiveValid: 0 });
      expect(s.reputation.get(id).totalInvalid).toBeGreaterThanOrEqual(3);
      expect(s.reputation.isBanned(id, clock.now())).toBe(true);
      expect((received.get(id) ?? 0) + 1).toBeGreaterThanOrEqual(2); // it did get work
    }
  });

  it("'not converged' claims with real partial progress are retried, refuted by a converged result, and counted as invalid", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 3);
    addPlan(s, multiRhsPlan("job1", 6));
    const griefers = [peerId(8), peerId(9)];
    s.volunteersChanged([volunteer(8), volunteer(9), volunteer(1)]);
    // Forced: the honest volunteer declines its first units (paused: 5 s without new work), so the griefers
    // hold every unit first and claim "not converged" on each (two claims per unit once they swap: the old
    // quorum that failed the job).
    for (let round = 0; round < 3; round++) {
      for (const a of assigns(s.tick())) {
        if (a.volunteerId === peerId(1)) {
          s.onUnitError(a.unitId, a.attempt, a.volunteerId, "declined", "paused");
          continue;
        }
        s.onResult(a.unitId, a.attempt, a.volunteerId);
        s.onVerified(a.unitId, a.attempt, stallVerdict());
      }
    }
    const twiceClaimed = s
      .unitsOf("job1")
      .filter(
        (u) =>
          new Set(u.history.filter((h) => h.outcome === "not-converged").map((h) => h.volunteerId)).size ===
          2,
      );
    expect(twiceClaimed.length).toBeGreaterThan(0);
    expect(s.job("job1")!.status).toBe("running"); // two untrusted claims do not fail a unit
    for (const id of griefers) expect(s.reputation.get(id).totalInvalid).toBe(0); // not judged yet
    clock.advance(5_000);
    drive(s, clock, (id) => (griefers.includes(id) ? stallVerdict() : honestVerdict()));
    expect(s.job("job1")!.status).toBe("done");
    for (const id of griefers) {
      expect(s.reputation.get(id).totalInvalid).toBeGreaterThanOrEqual(3);
      expect(s.reputation.isBanned(id, clock.now())).toBe(true);
    }
    expect(s.reputation.get(peerId(1))).toMatchObject({ totalInvalid: 0, totalValid: 6 });
  });

  it("a claim confirmed by the requester's own volunteer fails the unit without blame; unconfirmed ones are blamed", () => {
    const clock = new ManualClock();
    const confirmed = newScheduler(clock, 1, { selfId: peerId(1), maxInFlightPerVolunteer: 1 });
    addPlan(confirmed, multiRhsPlan("job1", 1));
    confirmed.volunteersChanged([volunteer(1), volunteer(2)]);
    drive(confirmed, clock, () => stallVerdict());
    expect(confirmed.unit("job1/0")!.error?.code).toBe("not_converged");
    expect(confirmed.reputation.get(peerId(2)).totalInvalid).toBe(0);

    // Nobody trusted is there: once every volunteer claimed it, the unit fails and the claims count.
    const alone = newScheduler(clock, 1, { maxInFlightPerVolunteer: 1 });
    addPlan(alone, multiRhsPlan("job1", 1));
    alone.volunteersChanged([volunteer(2), volunteer(3)]);
    drive(alone, clock, () => stallVerdict());
    expect(alone.unit("job1/0")!.error?.code).toBe("not_converged");
    expect(alone.unit("job1/0")!.error?.message).toMatch(/none trusted to confirm it/);
    for (const n of [2, 3]) expect(alone.reputation.get(peerId(n)).totalInvalid).toBe(1);
  });

  it("an advertised speed counts for at most 2× the measured median: a huge benchmark does not draw the work", () => {
    const honest = [1, 2, 3].map((n) => ({
      ...newVolunteerState(peerId(n), CPU),
      measuredFlopsPerMs: 1_000,
    }));
    const liar = newVolunteerState(peerId(9), { ...CPU, benchmarkMflops: 1e7 });
    expect(advertisedSpeedCap([...honest, liar], 2)).toBe(2_000);
    // Before any measurement: 2 × the median announced prior (500 MFLOP/s × 1000 × 0.5 efficiency).
    expect(
      advertisedSpeedCap([newVolunteerState(peerId(1), CPU), newVolunteerState(peerId(2), CPU), liar], 2),
    ).toBe(500_000);

    const clock = new ManualClock();
    const s = newScheduler(clock, 5, { maxInFlightPerVolunteer: 4 });
    addPlan(s, multiRhsPlan("warm", 3));
    s.volunteersChanged([volunteer(1), volunteer(2), volunteer(3)]);
    drive(s, clock, () => honestVerdict()); // measures the three honest volunteers
    addPlan(s, multiRhsPlan("job2", 8, 1));
    s.volunteersChanged([
      volunteer(1),
      volunteer(2),
      volunteer(3),
      { peerId: peerId(9), capabilities: { ...CPU, benchmarkMflops: 1e7 } },
    ]);
    const placed = assigns(s.tick());
    expect(placed).toHaveLength(8);
    // Uncapped, its claim (1000× the others) would have won it its K = 4 units first.
    expect(placed.slice(0, 4).every((a) => a.volunteerId === peerId(9))).toBe(false);
    expect(placed.filter((a) => a.volunteerId === peerId(9)).length).toBeLessThanOrEqual(3);
  });
});
