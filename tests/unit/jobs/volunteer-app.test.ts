import { afterEach, describe, expect, it } from "vitest";
import { FaultInjection } from "../../../src/core/jobs/volunteer/fault-injection.ts";
import { BusyMeter, UnitLog, type UnitLogEntry } from "../../../src/core/jobs/volunteer/index.ts";
import { JOB_PROTOCOL_VERSION, parseJobMessage } from "../../../src/core/protocol/jobs.ts";
import { signedBodySchema } from "../../../src/core/protocol/peer.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { seededRandom } from "./helpers.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";

afterEach(cleanup);

function entry(i: number, requesterId = "req"): UnitLogEntry {
  return { atMs: i, requesterId, unitId: `job/${i}`, attempt: 1, kind: "solve", ms: 5, outcome: "sent" };
}

describe("unit log (what the volunteer shows it computed)", () => {
  it("keeps the newest entries only, newest first", () => {
    const log = new UnitLog(100);
    for (let i = 0; i < 250; i++) log.add(entry(i));
    expect(log.entries).toHaveLength(100);
    expect(log.entries[0]!.unitId).toBe("job/249");
    expect(log.entries.at(-1)!.unitId).toBe("job/150");
  });

  it("takes a verdict only from the unit's requester, for the attempt sent, once", () => {
    const log = new UnitLog();
    log.add(entry(1, "alice"));
    expect(log.applyVerdict("mallory", "job/1", 1, "rejected")).toBe(false);
    expect(log.applyVerdict("alice", "job/1", 2, "rejected")).toBe(false);
    expect(log.applyVerdict("alice", "job/9", 1, "verified")).toBe(false);
    expect(log.entries[0]!.outcome).toBe("sent");
    expect(log.applyVerdict("alice", "job/1", 1, "verified")).toBe(true);
    expect(log.applyVerdict("alice", "job/1", 1, "rejected")).toBe(false);
    expect(log.entries[0]!.outcome).toBe("verified");
    expect(log.verdictsIgnored).toBe(4);
  });
});

describe("busy meter (CPU actually used)", () => {
  it("is busy time over the last minute, counting overlaps once and forgetting old spans", () => {
    let now = 0;
    const meter = new BusyMeter(() => now, 60_000);
    now = 60_000;
    meter.add(0, 15_000);
    meter.add(10_000, 30_000); // overlaps the first: 30 s busy in all
    expect(meter.fraction()).toBeCloseTo(0.5, 6);
    now = 90_000; // window 30..90 s: nothing busy in it
    expect(meter.fraction()).toBe(0);
    meter.start();
    now = 105_000;
    expect(meter.fraction()).toBeCloseTo(0.25, 6); // the span running now counts
    meter.stop();
    now = 120_000;
    expect(meter.fraction()).toBeCloseTo(0.25, 6);
  });

  it("divides by the time so far during the first minute", () => {
    let now = 1_000;
    const meter = new BusyMeter(() => now, 60_000);
    meter.add(1_000, 3_000);
    now = 5_000;
    expect(meter.fraction()).toBeCloseTo(0.5, 6);
  });
});

describe("unit-verdict message", () => {
  const good = {
    type: "unit-verdict",
    jv: JOB_PROTOCOL_VERSION,
    unitId: "job-1/3",
    attempt: 2,
    verdict: "verified",
  };

  it("parses a well-formed verdict", () => {
    expect(parseJobMessage(good).ok).toBe(true);
  });

  it.each([
    ["an unknown verdict", { ...good, verdict: "trusted" }],
    ["an extra field", { ...good, reason: "x".repeat(10_000) }],
    ["a bad unit id", { ...good, unitId: "../../etc" }],
    ["a zero attempt", { ...good, attempt: 0 }],
    ["a missing verdict", { type: "unit-verdict", jv: 1, unitId: "job-1/3", attempt: 2 }],
  ])("rejects %s", (_what, body) => {
    expect(parseJobMessage(body).ok).toBe(false);
  });

  it("is a signed body the peer protocol knows (with its header), strictly", () => {
    const header = { to: null, atMs: 1, nonce: "A".repeat(22) };
    expect(signedBodySchema.safeParse({ ...header, ...good }).success).toBe(true);
    expect(signedBodySchema.safeParse({ ...header, ...good, verdict: 42 }).success).toBe(false);
    expect(signedBodySchema.safeParse({ ...header, ...good, note: "trust me" }).success).toBe(false);
  });
});

function multiRhs(count: number): SubmitInput {
  const a = poisson2d(10);
  const random = seededRandom(5);
  const rhs = Array.from({ length: count }, () =>
    Float64Array.from({ length: a.rows }, () => random() - 0.5),
  );
  return { name: "p10", kind: "multi-rhs", a, rhs, method: "cg", tol: 1e-9, maxIter: 2_000 };
}

describe("volunteers learn the requester's verdicts", () => {
  it("an honest volunteer's log says verified, a liar's says rejected", async () => {
    const peers = await startPeers(3, {
      fault: (i) => (i === 2 ? FaultInjection.create("perturb", true, seededRandom(7)) : null),
    });
    peers[0]!.volunteer!.pause(); // the requester's own volunteer stays out: the work goes to 1 and 2
    const rt = await startRequester(peers[0]!, openRepo(freshDbName()));
    const id = await rt.submit(multiRhs(8));
    await until(() => rt.scheduler.job(id)?.status !== "running", 20_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const honest = peers[1]!.volunteer!;
    const liar = peers[2]!.volunteer!;
    await until(() => honest.snapshot().log.some((e) => e.outcome === "verified"));
    await until(() => liar.snapshot().log.some((e) => e.outcome === "rejected"));
    const requester = peers[0]!.mesh.peerId;
    for (const e of honest.snapshot().log) {
      expect(e).toMatchObject({ requesterId: requester, kind: "solve" });
      expect(e.ms).toBeGreaterThanOrEqual(0);
    }
    expect(liar.snapshot().log.some((e) => e.outcome === "verified")).toBe(false);
    // The honest volunteer computed something: its busy fraction is above zero.
    expect(honest.snapshot().busyFraction).toBeGreaterThan(0);
  });

  it("pauses on battery only when asked to", async () => {
    const [peer] = await startPeers(1);
    const v = peer!.volunteer!;
    v.setOnBattery(true);
    expect(v.snapshot().status).not.toBe("paused");
    v.setPauseOnBattery(true);
    expect(v.snapshot()).toMatchObject({ status: "paused", pauseReason: "battery" });
    v.setOnBattery(false);
    expect(v.snapshot().pauseReason).toBe(null);
  });
});
