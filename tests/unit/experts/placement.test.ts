import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  hostsOf,
  placeExperts,
  placementMoves,
  type Placement,
} from "../../../src/core/experts/router/placement-plan.ts";

const ids = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `v${String(i + from).padStart(2, "0")}`);

function check(placement: Placement, experts: number, volunteers: number, replicas = 2) {
  const r = Math.min(replicas, volunteers);
  for (let e = 0; e < experts; e++) expect(hostsOf(placement, e), `expert ${e}`).toHaveLength(r);
  const loads = [...placement.values()].map((es) => es.length);
  expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
  for (const es of placement.values()) expect(new Set(es).size).toBe(es.length);
}

describe("expert placement", () => {
  it("puts every expert on two volunteers, evenly, and on one when only one volunteer exists", () => {
    for (const v of [1, 2, 3, 4, 5, 7, 8, 16, 20]) check(placeExperts(8, ids(v), new Map()), 8, v);
    const one = placeExperts(8, ["solo"]);
    expect(one.get("solo")).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(placeExperts(8, []).size).toBe(0);
    check(placeExperts(8, ids(4), new Map(), { replicas: 3 }), 8, 4, 3);
  });

  it("is deterministic and independent of the order volunteers are listed in", () => {
    const a = placeExperts(8, ["c", "a", "b"]);
    const b = placeExperts(8, ["b", "c", "a", "a"]);
    expect([...a]).toEqual([...b]);
  });

  it("moves only the leaver's experts when a volunteer leaves, and only evenness' share when one joins", () => {
    const before = placeExperts(8, ids(4));
    const leaver = "v02";
    const after = placeExperts(
      8,
      ids(4).filter((id) => id !== leaver),
      before,
    );
    check(after, 8, 3);
    expect(placementMoves(before, after)).toBe(before.get(leaver)!.length);
    for (const [id, es] of after) for (const e of before.get(id)!) expect(es).toContain(e);

    const joined = placeExperts(8, [...ids(4), "v99"], before);
    check(joined, 8, 5);
    // 16 slots over 5 hosts: the newcomer takes 3, nobody else gains anything.
    expect(placementMoves(before, joined)).toBe(joined.get("v99")!.length);
    expect(joined.get("v99")!.length).toBe(3);
  });

  it("keeps its invariants and moves little over random churn", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 16 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 25 }),
        (experts, steps) => {
          let live = ids(3);
          let placement = placeExperts(experts, live);
          for (const [join, pick] of steps) {
            const next = join ? [...live, `n${pick}`] : live.filter((_, i) => i !== pick % live.length);
            if (next.length === 0) continue;
            const before = placement;
            placement = placeExperts(experts, next, before);
            live = [...new Set(next)];
            check(placement, experts, live.length);
            // A change never moves more than what the departed held plus one even share per host.
            const departed = [...before]
              .filter(([id]) => !live.includes(id))
              .reduce((n, [, es]) => n + es.length, 0);
            const share = Math.ceil((experts * Math.min(2, live.length)) / live.length);
            expect(placementMoves(before, placement)).toBeLessThanOrEqual(departed + share + 1);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
