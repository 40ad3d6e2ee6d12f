import { describe, expect, it } from "vitest";
import { HostBatchLog, type HostBatchEntry } from "../../../src/core/experts/host/batch-log.ts";
import { VerdictIntake } from "../../../src/core/experts/host/verdict-intake.ts";
import { decodeXp } from "../../../src/core/protocol/experts.ts";
import type { UnitLogEntry } from "../../../src/core/jobs/volunteer/index.ts";
import { workLogRows } from "../../../src/state/experts/index.ts";

const batch = (atMs: number, outcome: HostBatchEntry["outcome"] = "sent"): HostBatchEntry => ({
  atMs,
  requesterId: "req-x",
  requestId: `r${atMs}`,
  model: "a".repeat(64),
  modelLabel: "expert-3 (int8)",
  rows: 64,
  ms: 12,
  outcome,
});

const unit = (atMs: number, outcome: UnitLogEntry["outcome"]): UnitLogEntry => ({
  atMs,
  requesterId: "req-s",
  unitId: `job-1/${atMs}`,
  attempt: 1,
  kind: "solve",
  ms: 30,
  outcome,
});

describe("the host's batch log", () => {
  it("keeps the newest entries up to its bound, newest first, a new array after each change", () => {
    const log = new HostBatchLog(3);
    const seen = [log.entries];
    for (let t = 1; t <= 5; t++) {
      log.add(batch(t));
      seen.push(log.entries);
    }
    expect(log.entries.map((e) => e.atMs)).toEqual([5, 4, 3]);
    expect(new Set(seen).size).toBe(6);
  });

  it("takes a verdict only from the batch's requester, for a batch still sent, once; counts the others", () => {
    const log = new HostBatchLog();
    log.add(batch(1));
    log.add(batch(2, "failed"));
    expect(log.applyVerdict("someone-else", "r1", "rejected")).toBe(false);
    expect(log.applyVerdict("req-x", "r2", "accepted")).toBe(false); // its run failed: nothing was sent
    expect(log.applyVerdict("req-x", "r9", "accepted")).toBe(false); // no such batch
    expect(log.applyVerdict("req-x", "r1", "accepted")).toBe(true);
    expect(log.applyVerdict("req-x", "r1", "rejected")).toBe(false); // judged already
    expect(log.entries.map((e) => [e.requestId, e.outcome])).toEqual([
      ["r2", "failed"],
      ["r1", "accepted"],
    ]);
    expect(log.verdictsIgnored).toBe(4);
  });

  it("takes on the wire only an id and accepted/rejected: no text, no other verdict", () => {
    const none = new Uint8Array(0);
    expect(decodeXp({ kind: "batch-verdict", id: "r1", verdict: "accepted" }, none).ok).toBe(true);
    for (const bad of [
      { kind: "batch-verdict", id: "r1", verdict: "verified" },
      { kind: "batch-verdict", id: "r1", verdict: "accepted", note: "<b>hi</b>" },
      { kind: "batch-verdict", id: "not an id!", verdict: "rejected" },
    ]) {
      expect(decodeXp(bad, none)).toMatchObject({ ok: false, code: "invalid_fields" });
    }
    expect(
      decodeXp({ kind: "batch-verdict", id: "r1", verdict: "accepted" }, new Uint8Array(4)),
    ).toMatchObject({
      ok: false,
      code: "attachment_size_mismatch",
    });
  });

  it("caps verdicts per requester: past the burst, one per 1/perSecond, the rest dropped and counted", () => {
    let now = 0;
    const log = new HostBatchLog();
    for (let t = 1; t <= 6; t++) log.add(batch(t));
    const intake = new VerdictIntake(log, () => now, 2, 3);
    const verdict = (t: number) => ({
      kind: "batch-verdict" as const,
      id: `r${t}`,
      verdict: "accepted" as const,
    });
    const applied = [1, 2, 3, 4, 5].map((t) => intake.receive("req-x", verdict(t)));
    expect(applied).toEqual([true, true, true, false, false]);
    expect(intake.overRate).toBe(2);
    // Another requester has its own budget (its verdicts match nothing of its own here: ignored, not over rate).
    expect(intake.receive("req-y", verdict(6))).toBe(false);
    expect(intake.overRate).toBe(2);
    expect(log.verdictsIgnored).toBe(1);
    now = 500; // one token back at 2 per second
    expect(intake.receive("req-x", verdict(4))).toBe(true);
    expect(intake.receive("req-x", verdict(5))).toBe(false);
    expect(intake.overRate).toBe(3);
    expect(
      log.entries
        .filter((e) => e.outcome === "accepted")
        .map((e) => e.requestId)
        .sort(),
    ).toEqual(["r1", "r2", "r3", "r4"]);
  });
});

describe("the Contribute view's work log", () => {
  it("merges solve units and expert batches newest first, each in words with the requester's verdict", () => {
    const rows = workLogRows(
      [unit(40, "verified"), unit(10, "sent")],
      [batch(35, "accepted"), batch(30), batch(25, "rejected"), batch(20, "failed")],
    );
    expect(rows.map((r) => [r.atMs, r.kind, r.kindLabel, r.rows, r.outcome, r.outcomeLabel])).toEqual([
      [40, "solve", "solve unit", null, "verified", "verified"],
      [35, "experts", "experts: expert-3 (int8)", 64, "accepted", "accepted by the requester"],
      [30, "experts", "experts: expert-3 (int8)", 64, "sent", "sent (no verdict yet)"],
      [25, "experts", "experts: expert-3 (int8)", 64, "rejected", "rejected by the requester"],
      [20, "experts", "experts: expert-3 (int8)", 64, "failed", "failed"],
      [10, "solve", "solve unit", null, "sent", "sent (no verdict yet)"],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(6);
    expect(rows[2]).toMatchObject({ requesterId: "req-x", unit: "r30", ms: 12 });
  });
});
