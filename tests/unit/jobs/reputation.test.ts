import { describe, expect, it } from "vitest";
import {
  freshReputation,
  isBanned,
  isTrusted,
  recordInvalid,
  recordValid,
  replicationProbability,
  ReputationBook,
  shouldReplicate,
  type ReputationRecord,
} from "../../../src/core/trust/reputation.ts";
import { seededRandom } from "./helpers.ts";

const ID = "os" + "1".repeat(32);

function withValid(n: number, rec: ReputationRecord = freshReputation(ID)): ReputationRecord {
  let r = rec;
  for (let i = 0; i < n; i++) r = recordValid(r);
  return r;
}

describe("reputation (BOINC adaptive replication)", () => {
  it("is untrusted, and always replicated, until 10 consecutive valid results", () => {
    const random = seededRandom(1);
    const nine = withValid(9);
    expect(isTrusted(nine)).toBe(false);
    for (let i = 0; i < 1000; i++) expect(shouldReplicate(nine, random)).toBe(true);
    const ten = withValid(10);
    expect(isTrusted(ten)).toBe(true);
    expect(replicationProbability(ten)).toBeCloseTo(0.1, 15);
  });

  it("replicates a trusted volunteer with frequency ≈ 1/consecutiveValid (seeded, 40k draws per level)", () => {
    const random = seededRandom(2024);
    const draws = 40_000;
    for (const cv of [10, 20, 50]) {
      const rec = withValid(cv);
      let hits = 0;
      for (let i = 0; i < draws; i++) if (shouldReplicate(rec, random)) hits++;
      const p = 1 / cv;
      const sigma = Math.sqrt((p * (1 - p)) / draws);
      // 4σ: a correct implementation fails with probability ≈ 6e-5; an off-by-one (1/(cv±1)) fails at cv = 10.
      expect(Math.abs(hits / draws - p)).toBeLessThan(4 * sigma);
    }
  });

  it("over a volunteer's life replicates ≈ 10 + Σ_{cv≥10} 1/cv results, and restarts after an invalid one", () => {
    const random = seededRandom(99);
    const trials = 400;
    const life = 200;
    let total = 0;
    for (let t = 0; t < trials; t++) {
      let rec = freshReputation(ID);
      for (let i = 0; i < life; i++) {
        if (shouldReplicate(rec, random)) total++;
        rec = recordValid(rec);
      }
    }
    let expected = 10;
    for (let cv = 10; cv < life; cv++) expected += 1 / cv;
    expect(total / trials).toBeGreaterThan(expected * 0.95);
    expect(total / trials).toBeLessThan(expected * 1.05);

    const reset = recordInvalid(withValid(50), 5);
    expect(reset).toMatchObject({ consecutiveValid: 0, totalValid: 50, totalInvalid: 1, lastInvalidAtMs: 5 });
    expect(shouldReplicate(reset, random)).toBe(true);
  });

  it("bans a volunteer whose recent results are mostly invalid, not one with an occasional failure", () => {
    let liar = freshReputation(ID);
    for (let i = 0; i < 2; i++) liar = recordInvalid(liar, 1000);
    expect(isBanned(liar, 1000)).toBe(false); // two strikes are not enough
    liar = recordInvalid(liar, 1000);
    expect(isBanned(liar, 1000)).toBe(true);

    let honest = withValid(7);
    for (let i = 0; i < 3; i++) honest = recordInvalid(honest, 1000);
    expect(isBanned(honest, 1000)).toBe(false); // 3 of 10 invalid: ratio 0.3

    let flaky = withValid(4);
    for (let i = 0; i < 6; i++) flaky = recordInvalid(flaky, 1000);
    expect(isBanned(flaky, 1000)).toBe(true); // 6 of 10 invalid
    expect(flaky.recent).toHaveLength(10);
  });

  it("lifts a ban after banForMs, and one more invalid result re-bans at once", () => {
    let liar = freshReputation(ID);
    for (let i = 0; i < 3; i++) liar = recordInvalid(liar, 0);
    const day = 24 * 60 * 60 * 1000;
    expect(isBanned(liar, day - 1)).toBe(true);
    expect(isBanned(liar, day)).toBe(false);
    liar = recordInvalid(liar, day);
    expect(isBanned(liar, day)).toBe(true);
  });

  it("ReputationBook tracks changed records for persistence", () => {
    const book = new ReputationBook([withValid(3)]);
    expect(book.get(ID).consecutiveValid).toBe(3);
    expect(book.drainChanged()).toEqual([]);
    book.recordValid(ID);
    book.recordInvalid("os" + "2".repeat(32), 7);
    expect(book.drainChanged().map((r) => [r.volunteerId, r.totalValid, r.totalInvalid])).toEqual([
      [ID, 4, 0],
      ["os" + "2".repeat(32), 0, 1],
    ]);
    expect(book.drainChanged()).toEqual([]);
    expect(book.isBanned("os" + "3".repeat(32), 0)).toBe(false);
  });
});
