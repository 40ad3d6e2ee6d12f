import { describe, expect, it } from "vitest";
import { HostBatchLog, type HostBatchEntry } from "../../../src/core/experts/host/batch-log.ts";
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
});

describe("the Contribute view's work log", () => {
  it("merges solve units and expert batches newest first, each in words; batches say no verdict was reported", () => {
    const rows = workLogRows([unit(40, "verified"), unit(10, "sent")], [batch(30), batch(20, "failed")]);
    expect(rows.map((r) => [r.atMs, r.kind, r.kindLabel, r.rows, r.outcome, r.outcomeLabel])).toEqual([
      [40, "solve", "solve unit", null, "verified", "verified"],
      [30, "experts", "experts: expert-3 (int8)", 64, "sent", "sent (verdict not reported)"],
      [20, "experts", "experts: expert-3 (int8)", 64, "failed", "failed"],
      [10, "solve", "solve unit", null, "sent", "sent (no verdict yet)"],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(4);
    expect(rows[1]).toMatchObject({ requesterId: "req-x", unit: "r30", ms: 12 });
  });
});
