import { describe, expect, it } from "vitest";
import { assignBody } from "../../../src/core/jobs/requester/assign-body.ts";
import { parseJobMessage } from "../../../src/core/protocol/jobs.ts";
import { partitionRows } from "../../../src/core/distributed/partition.ts";
import { planJob } from "../../../src/core/jobs/split.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { addPlan, assigns, ManualClock, multiRhsPlan, newScheduler, spec, volunteer } from "./helpers.ts";

describe("assignBody", () => {
  it("turns an assign action into a valid unit-assign body with the unit's right-hand sides", () => {
    const clock = new ManualClock();
    const s = newScheduler(clock);
    const plan = multiRhsPlan("job1", 5, 0, { rhsPerUnit: 2, preconditioner: "ic0", backend: "cpu" });
    addPlan(s, plan);
    s.volunteersChanged([volunteer(1)]);
    const [, second] = assigns(s.tick());
    const body = assignBody(s.job("job1")!, s.unit(second!.unitId)!, second!);
    expect(parseJobMessage(JSON.parse(JSON.stringify(body)))).toEqual({ ok: true, message: body });
    expect(body).toMatchObject({ unitId: "job1/1", attempt: 1, deadlineMs: second!.deadlineMs });
    expect(body.task).toMatchObject({ tol: 1e-8, maxIter: 1000, preconditioner: "ic0", backend: "cpu" });
    expect(body.task.rhs).toEqual(plan.job.spec.rhs.slice(2, 4));
    expect(() => assignBody(s.job("job1")!, s.unit("job1/0")!, second!)).toThrow(/does not match/);
  });

  it("refuses row-block units until the distributed runner defines their wire format", () => {
    const a = poisson2d(4);
    const plan = planJob(
      {
        id: "d",
        kind: "distributed-solve",
        spec: spec({ blocks: 2 }, 1, 16, a.rowPtr[16]!),
        tolerance: 1e-8,
        createdAtMs: 0,
      },
      partitionRows(a, 2),
    );
    const clock = new ManualClock();
    const s = newScheduler(clock);
    addPlan(s, plan);
    s.volunteersChanged([volunteer(1)]);
    const [w] = assigns(s.tick());
    expect(() => assignBody(s.job("d")!, s.unit(w!.unitId)!, w!)).toThrow(/no wire format yet/);
  });
});
