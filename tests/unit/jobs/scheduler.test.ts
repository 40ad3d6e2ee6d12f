import { describe, expect, it } from "vitest";
import { isJobError } from "../../../src/core/protocol/job-errors.ts";
import { planJob } from "../../../src/core/jobs/split.ts";
import {
  addPlan,
  assigns,
  CPU,
  GPU,
  ManualClock,
  multiRhsPlan,
  newScheduler,
  ofType,
  peerId,
  spec,
  volunteer,
} from "./helpers.ts";

describe("scheduler: assignment", () => {
  it("keeps at most K units in flight per volunteer and refills a slot when a result arrives", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 10));
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    const first = assigns(s.tick());
    expect(first).toHaveLength(4);
    const perVolunteer = new Map<string, number>();
    for (const a of first) perVolunteer.set(a.volunteerId, (perVolunteer.get(a.volunteerId) ?? 0) + 1);
    expect([...perVolunteer.values()]).toEqual([2, 2]);
    expect(assigns(s.tick())).toHaveLength(0);

    const done = first[0]!;
    expect(s.onResult(done.unitId, done.attempt, done.volunteerId)).toBe("accept-for-verification");
    const refill = assigns(s.tick());
    expect(refill).toHaveLength(1);
    expect(refill[0]!.volunteerId).toBe(done.volunteerId);
    expect(s.volunteers().every((v) => v.inFlight <= 2)).toBe(true);
  });

  it("honours a different K", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 1, { maxInFlightPerVolunteer: 3 });
    addPlan(s, multiRhsPlan("job1", 10));
    s.volunteersChanged([volunteer(1)]);
    expect(assigns(s.tick())).toHaveLength(3);
  });

  it("assigns by capability: WebGPU units go to WebGPU volunteers, oversized units wait", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("gpu", 2, 0, { backend: "webgpu" }));
    s.volunteersChanged([volunteer(1, CPU), volunteer(2, GPU)]);
    const a = assigns(s.tick());
    expect(a.map((x) => x.volunteerId)).toEqual([peerId(2), peerId(2)]);

    const big = planJob({
      id: "big",
      kind: "solve",
      spec: spec({}, 1, 10_000_000, 100_000_000),
      tolerance: 1e-8,
      createdAtMs: 1,
    });
    addPlan(s, big);
    expect(assigns(s.tick())).toHaveLength(0);
    expect(s.unit("big/0")!.status).toBe("pending");
  });

  it("prefers the volunteer that would finish first: announced speed before measurements, measured after", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 3));
    s.volunteersChanged([
      volunteer(1, { ...CPU, benchmarkMflops: 50 }),
      volunteer(2, { ...CPU, benchmarkMflops: 5000 }),
    ]);
    const a = assigns(s.tick());
    // The fast one takes its K=2 first; the slow one gets the third unit only because the fast one is full.
    expect(a.map((x) => x.volunteerId)).toEqual([peerId(2), peerId(2), peerId(1)]);

    // Measured speed overrides the announced one: the "fast" volunteer turns out slow.
    const s2 = newScheduler(clock);
    addPlan(s2, multiRhsPlan("job2", 4));
    s2.volunteersChanged([volunteer(1), volunteer(2)]);
    const b = assigns(s2.tick());
    const fromA = b.filter((x) => x.volunteerId === peerId(1));
    const fromB = b.filter((x) => x.volunteerId === peerId(2));
    // Volunteer 1 returns a unit every 10 ms, volunteer 2 every 9 s (each computes one unit at a time).
    const t0 = clock.ms;
    const events = [
      ...fromA.map((x, i) => ({ x, at: t0 + 10 * (i + 1) })),
      ...fromB.map((x, i) => ({ x, at: t0 + 9_000 * (i + 1) })),
    ].sort((p, q) => p.at - q.at);
    for (const { x, at } of events) {
      clock.ms = at;
      expect(s2.onResult(x.unitId, x.attempt, x.volunteerId)).toBe("accept-for-verification");
      s2.onVerified(x.unitId, x.attempt, { ok: true });
    }
    expect(s2.unit(fromA[1]!.unitId)!.result!.elapsedMs).toBe(10); // service time, not time queued
    const views = new Map(s2.volunteers().map((v) => [v.peerId, v]));
    expect(views.get(peerId(1))!.measuredFlopsPerMs!).toBeGreaterThan(
      100 * views.get(peerId(2))!.measuredFlopsPerMs!,
    );
    addPlan(s2, multiRhsPlan("job3", 1, 1));
    expect(assigns(s2.tick()).map((x) => x.volunteerId)).toEqual([peerId(1)]);
  });
});

describe("scheduler: leases", () => {
  it("reissues a unit whose lease deadline passes, even with heartbeats, and cancels the old attempt", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 1, { minLeaseMs: 20_000, maxLeaseMs: 20_000 });
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    const [a] = assigns(s.tick());
    expect(a!.deadlineMs).toBe(clock.ms + 20_000);
    for (let t = 0; t < 3; t++) {
      clock.advance(5_000);
      expect(s.onHeartbeat(a!.unitId, 1, a!.volunteerId)).toBe("ok");
      expect(s.tick()).toEqual([]);
    }
    clock.advance(5_000);
    const actions = s.tick();
    expect(ofType(actions, "cancel")).toEqual([
      {
        type: "cancel",
        volunteerId: a!.volunteerId,
        unitId: "job1/0",
        attempt: 1,
        reason: "deadline-expired",
      },
    ]);
    const re = assigns(actions);
    expect(re).toHaveLength(1);
    expect(re[0]!.attempt).toBe(2);
    expect(re[0]!.volunteerId).not.toBe(a!.volunteerId);
    const u = s.unit("job1/0")!;
    expect(u.history.map((h) => h.outcome)).toEqual(["deadline-expired"]);
    expect(u.attemptsUsed).toBe(1);
  });

  it("reissues a unit after heartbeatTimeoutMs without a heartbeat, not before", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 1, { heartbeatTimeoutMs: 10_000 });
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    const [a] = assigns(s.tick());
    clock.advance(9_000);
    expect(s.onHeartbeat("job1/0", 1, a!.volunteerId)).toBe("ok");
    clock.advance(10_000); // 10 s after the heartbeat: still alive
    expect(s.tick()).toEqual([]);
    clock.advance(1);
    const actions = s.tick();
    expect(ofType(actions, "cancel")[0]!.reason).toBe("heartbeat-timeout");
    expect(assigns(actions)[0]!.attempt).toBe(2);
    expect(s.unit("job1/0")!.history[0]!.outcome).toBe("heartbeat-timeout");
  });

  it("counts how attempts end (read-only figures for operators): a timeout, then one verified result", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 1, { heartbeatTimeoutMs: 10_000 });
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    assigns(s.tick());
    expect(s.attemptEnds()).toEqual({});
    clock.advance(10_001);
    const [second] = assigns(s.tick());
    expect(s.onResult("job1/0", second!.attempt, second!.volunteerId)).toBe("accept-for-verification");
    expect(s.onVerified("job1/0", second!.attempt, { ok: true })).toBe(true);
    // A repeated verdict is ignored, and not counted twice.
    expect(s.onVerified("job1/0", second!.attempt, { ok: true })).toBe(false);
    expect(s.attemptEnds()).toEqual({ "heartbeat-timeout": 1, verified: 1 });
  });

  it("ignores heartbeats from the wrong volunteer and tells a stale attempt's volunteer to stop", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    const [a] = assigns(s.tick());
    const other = a!.volunteerId === peerId(1) ? peerId(2) : peerId(1);
    expect(s.onHeartbeat("job1/0", 1, other)).toBe("ignored-unknown");
    expect(s.onHeartbeat("job1/0", 2, a!.volunteerId)).toBe("ignored-unknown");
    expect(s.onHeartbeat("nope/0", 1, a!.volunteerId)).toBe("ignored-unknown");
    s.onDisconnect(a!.volunteerId);
    s.volunteersChanged([volunteer(1), volunteer(2)]); // it comes back
    s.tick();
    expect(s.onHeartbeat("job1/0", 1, a!.volunteerId)).toBe("ignored-late");
    expect(ofType(s.tick(), "cancel")).toEqual([
      { type: "cancel", volunteerId: a!.volunteerId, unitId: "job1/0", attempt: 1, reason: "stale-attempt" },
    ]);
  });

  it("reissues a disconnected volunteer's units at once, without waiting for the lease", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 2));
    s.volunteersChanged([volunteer(1)]);
    const first = assigns(s.tick());
    expect(first).toHaveLength(2);
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    s.onDisconnect(peerId(1));
    const actions = s.tick(); // same instant
    expect(ofType(actions, "cancel")).toEqual([]); // nobody to tell
    const re = assigns(actions);
    expect(re.map((x) => [x.unitId, x.attempt, x.volunteerId])).toEqual([
      ["job1/0", 2, peerId(2)],
      ["job1/1", 2, peerId(2)],
    ]);
    expect(s.unit("job1/0")!.history[0]!.outcome).toBe("disconnected");
  });

  it("treats a volunteer missing from the directory as disconnected", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1)]);
    s.tick();
    s.volunteersChanged([volunteer(2)]);
    expect(assigns(s.tick())[0]).toMatchObject({ volunteerId: peerId(2), attempt: 2 });
  });
});

describe("scheduler: results", () => {
  it("accepts one result per unit and ignores duplicate, late and unknown ones idempotently", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1), volunteer(2), volunteer(3)]);
    const [a] = assigns(s.tick());
    clock.advance(10_001); // attempt 1 times out
    const [b] = assigns(s.tick());
    expect(b!.attempt).toBe(2);
    const third = [peerId(1), peerId(2), peerId(3)].find(
      (p) => p !== a!.volunteerId && p !== b!.volunteerId,
    )!;

    expect(s.onResult("job1/0", 1, a!.volunteerId)).toBe("ignored-late");
    expect(s.onResult("job1/0", 2, third)).toBe("ignored-unknown"); // not its lease
    expect(s.onResult("job1/0", 3, b!.volunteerId)).toBe("ignored-unknown"); // never issued
    expect(s.onResult("job9/0", 1, b!.volunteerId)).toBe("ignored-unknown");
    expect(s.unit("job1/0")!.status).toBe("leased");

    expect(s.onResult("job1/0", 2, b!.volunteerId)).toBe("accept-for-verification");
    expect(s.onResult("job1/0", 2, b!.volunteerId)).toBe("ignored-duplicate");
    expect(s.onResult("job1/0", 1, a!.volunteerId)).toBe("ignored-late");
    expect(s.unit("job1/0")!.status).toBe("verifying");

    expect(s.onVerified("job1/0", 1, { ok: true })).toBe(false); // not the attempt being verified
    expect(s.onVerified("job1/0", 2, { ok: true })).toBe(true);
    expect(s.onVerified("job1/0", 2, { ok: true })).toBe(false); // idempotent
    expect(s.onResult("job1/0", 2, b!.volunteerId)).toBe("ignored-duplicate");
    expect(s.onResult("job1/0", 1, a!.volunteerId)).toBe("ignored-late");
    const u = s.unit("job1/0")!;
    expect(u.status).toBe("done");
    expect(u.result).toMatchObject({ attempt: 2, volunteerId: b!.volunteerId });
    const finished = ofType(s.tick(), "job-finished");
    expect(finished).toHaveLength(1);
    expect(finished[0]!.status).toBe("done");
    expect(s.reputation.get(b!.volunteerId).totalValid).toBe(1);
  });

  it("fails a unit after maxAttempts charged attempts with an error naming each attempt", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 1, { maxAttempts: 5 });
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([1, 2, 3, 4, 5, 6].map((n) => volunteer(n)));
    let failed = null;
    let job = null;
    for (let round = 1; round <= 5; round++) {
      const actions = s.tick();
      const a = assigns(actions);
      expect(a).toHaveLength(1);
      expect(a[0]!.attempt).toBe(round);
      if (round % 2 === 0) {
        s.onResult(a[0]!.unitId, round, a[0]!.volunteerId);
        s.onVerified(a[0]!.unitId, round, { ok: false, code: "invalid", reason: "residual 3e-2 > 1e-8" });
      } else clock.advance(10_001);
    }
    const last = s.tick();
    failed = ofType(last, "unit-failed");
    job = ofType(last, "job-finished");
    expect(assigns(last)).toHaveLength(0);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error.code).toBe("max_attempts");
    expect(failed[0]!.error.message).toMatch(/^unit job1\/0 failed after 5 attempts/);
    expect(failed[0]!.error.message).toContain("heartbeat-timeout");
    expect(failed[0]!.error.message).toContain("invalid-result: residual 3e-2 > 1e-8");
    expect(job[0]!.status).toBe("failed");
    expect(job[0]!.outcome.unitsFailed).toBe(1);
    expect(job[0]!.outcome.message).toContain("1 of 1 units failed");
    // Five different volunteers were tried: a failed volunteer is not asked twice while others exist.
    expect(new Set(s.unit("job1/0")!.history.map((h) => h.volunteerId)).size).toBe(5);
    expect(s.tick()).toEqual([]);
  });

  it("keeps a unit away from a volunteer that failed it, waiting for a busy one rather than retrying there", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 1, { maxInFlightPerVolunteer: 1 });
    addPlan(s, multiRhsPlan("job1", 2));
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    const a = assigns(s.tick());
    const [u0, u1] = [a.find((x) => x.unitId === "job1/0")!, a.find((x) => x.unitId === "job1/1")!];
    s.onResult(u0.unitId, 1, u0.volunteerId);
    s.onVerified(u0.unitId, 1, { ok: false, code: "invalid", reason: "bad" });
    // The other volunteer is busy with job1/1: the unit waits instead of going back to its failer.
    expect(assigns(s.tick())).toHaveLength(0);
    s.onResult(u1.unitId, 1, u1.volunteerId);
    const next = assigns(s.tick());
    expect(next).toEqual([
      expect.objectContaining({ unitId: "job1/0", attempt: 2, volunteerId: u1.volunteerId }),
    ]);
    // With only the failer left, it does get the unit again.
    s.onDisconnect(u1.volunteerId);
    expect(assigns(s.tick())).toEqual([
      expect.objectContaining({ unitId: "job1/0", attempt: 3, volunteerId: u0.volunteerId }),
    ]);
  });

  it("fails as not_converged once two volunteers report it, one of them trusted (here the requester's own), without touching their reputation", () => {
    const clock = new ManualClock();
    // The requester's own volunteer (selfId) confirms the claim of the other.
    const s = newScheduler(clock, 1, { selfId: peerId(1), maxInFlightPerVolunteer: 1 });
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1), volunteer(2)]);
    const reports: string[] = [];
    let actions = s.tick();
    for (let i = 0; i < 2; i++) {
      const [a] = assigns(actions);
      reports.push(a!.volunteerId);
      s.onResult(a!.unitId, a!.attempt, a!.volunteerId);
      s.onVerified(a!.unitId, a!.attempt, {
        ok: false,
        code: "not_converged",
        reason: "cg: max_iterations after 1000 iterations, best relative residual 4.1e-5",
      });
      actions = s.tick();
    }
    expect(new Set(reports).size).toBe(2);
    const failed = ofType(actions, "unit-failed");
    expect(failed[0]!.error.code).toBe("not_converged");
    expect(failed[0]!.error.message).toContain("best relative residual 4.1e-5");
    for (const id of reports) expect(s.reputation.get(id)).toMatchObject({ totalInvalid: 0, totalValid: 0 });
  });

  it("does not charge a declined unit, and backs off from the volunteer that declined", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock, 1, { declineBackoffMs: 5_000 });
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1)]);
    const [a] = assigns(s.tick());
    expect(s.onUnitError(a!.unitId, 1, a!.volunteerId, "declined", "paused by the user")).toBe("ok");
    expect(s.onUnitError(a!.unitId, 1, a!.volunteerId, "declined", "again")).toBe("ignored-late");
    expect(assigns(s.tick())).toHaveLength(0);
    clock.advance(5_000);
    const [b] = assigns(s.tick());
    expect(b!.attempt).toBe(2);
    expect(s.unit("job1/0")!.attemptsUsed).toBe(0);
    expect(s.onUnitError(b!.unitId, 2, b!.volunteerId, "out_of_memory", "needs 3 GiB")).toBe("ok");
    expect(s.unit("job1/0")!.attemptsUsed).toBe(1);
  });

  it("cancels a job: cancels its leases, fails its units as job_cancelled, ignores later results", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 3));
    s.volunteersChanged([volunteer(1)]);
    const a = assigns(s.tick());
    expect(s.cancelJob("job1")).toBe(true);
    expect(s.cancelJob("job1")).toBe(false);
    const actions = s.tick();
    expect(ofType(actions, "cancel").map((c) => [c.unitId, c.reason])).toEqual([
      ["job1/0", "job-cancelled"],
      ["job1/1", "job-cancelled"],
    ]);
    expect(ofType(actions, "job-finished")[0]).toMatchObject({ status: "cancelled" });
    expect(s.onResult(a[0]!.unitId, 1, a[0]!.volunteerId)).toBe("ignored-late");
    expect(s.unitsOf("job1").map((u) => u.error?.code)).toEqual([
      "job_cancelled",
      "job_cancelled",
      "job_cancelled",
    ]);
    expect(s.volunteers()[0]!.inFlight).toBe(0);
  });

  it("rejects bad input with coded errors", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    const plan = multiRhsPlan("job1", 1);
    addPlan(s, plan);
    const codes: string[] = [];
    for (const f of [
      () => s.addJob(plan.job, plan.units),
      () => s.addJob({ ...plan.job, id: "job2" }, []),
      () => s.addJob({ ...plan.job, id: "job3" }, [{ ...plan.units[0]!, index: 1 }]),
      () => s.restore({ jobs: [], units: [] }),
      () => newScheduler(clock, 1, { maxAttempts: 0 }),
    ]) {
      try {
        f();
        codes.push("no error");
      } catch (e) {
        codes.push(isJobError(e) ? e.code : "other");
      }
    }
    expect(codes).toEqual(["duplicate_job", "invalid_spec", "invalid_spec", "invalid_state", "invalid_spec"]);
  });

  it("restore() refuses leased units (resume must drop leases first)", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, multiRhsPlan("job1", 1));
    s.volunteersChanged([volunteer(1)]);
    s.tick();
    const { jobs, units } = s.drainChanges();
    const fresh = newScheduler(clock);
    expect(() => fresh.restore({ jobs, units })).toThrow(/still leased/);
  });
});
