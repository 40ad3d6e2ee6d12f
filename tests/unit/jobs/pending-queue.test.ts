import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PendingQueue } from "../../../src/core/jobs/scheduler/pending-queue.ts";

describe("PendingQueue", () => {
  it("yields live ids in key order through adds, deletes and re-adds", () => {
    const q = new PendingQueue();
    for (const k of [0, 1, 2, 3]) q.add(`u${k}`, k);
    q.delete("u1");
    q.delete("u0");
    expect([...q.ordered()]).toEqual(["u2", "u3"]);
    q.add("u0", 0); // comes back: first again
    q.add("u9", 9);
    q.add("u5", 5); // behind the tail: forces a re-sort
    q.add("u5", 5); // already there: no duplicate
    expect([...q.ordered()]).toEqual(["u0", "u2", "u3", "u5", "u9"]);
    expect(q.size).toBe(5);
  });

  it("matches a sorted set under random operations (fast-check)", () => {
    const op = fc.record({ add: fc.boolean(), id: fc.integer({ min: 0, max: 30 }), read: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new PendingQueue();
        const model = new Set<number>();
        for (const o of ops) {
          if (o.add) {
            q.add(`u${o.id}`, o.id);
            model.add(o.id);
          } else {
            expect(q.delete(`u${o.id}`)).toBe(model.delete(o.id));
          }
          if (o.read) {
            expect([...q.ordered()]).toEqual([...model].sort((p, r) => p - r).map((k) => `u${k}`));
          }
          expect(q.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
