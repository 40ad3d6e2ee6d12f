import { describe, expect, it } from "vitest";
import type { WorkUnit } from "../../../src/core/jobs/model.ts";
import { RequesterView, residualLineOf } from "../../../src/core/jobs/requester/view.ts";

function unit(index: number, rhsCount: number, rhsStart = index * rhsCount): WorkUnit {
  return {
    id: `job/${index}`,
    jobId: "job",
    index,
    task: { kind: "rhs-group", rhsStart, rhsCount },
  } as unknown as WorkUnit;
}

describe("a job's residual chart lines (RequesterView)", () => {
  it("one line per unit; a unit of several right-hand sides has one per right-hand side", () => {
    expect(residualLineOf(unit(3, 1), 0)).toEqual({ key: "job/3", label: "unit 3" });
    expect(residualLineOf(unit(1, 4), 2)).toEqual({ key: "job/1#2", label: "unit 1 · rhs 6" });
    // An index a peer made up names no line.
    expect(residualLineOf(unit(1, 4), 4)).toBeNull();
    expect(residualLineOf(unit(1, 4), -1)).toBeNull();
    expect(residualLineOf(unit(1, 4), 1.5)).toBeNull();
  });

  it("ends each line at the certificate, at the last iteration (a direct LU after the last report)", () => {
    const view = new RequesterView();
    view.pushResidual("job", "job/0", "unit 0", 1, { iteration: 10, residual: 0.5 });
    view.pushResidual("job", "job/0", "unit 0", 1, { iteration: 400, residual: 0.1 });
    view.certify("job", "job/0", "unit 0", 1, { iteration: 412, residual: 9.7e-9 });
    const [line] = view.residualSeries("job");
    expect(line!.certified).toBe(true);
    expect(line!.points.at(-1)).toEqual({ iteration: 412, residual: 9.7e-9 });
    // A claimed iteration before the last report is not drawn going back.
    view.certify("job", "job/0", "unit 0", 1, { iteration: 3, residual: 9.7e-9 });
    expect(view.residualSeries("job")[0]!.points.map((p) => p.iteration)).toEqual([10, 400, 400]);
    // Reports after the certificate (a late one) are not appended after it.
    view.pushResidual("job", "job/0", "unit 0", 1, { iteration: 410, residual: 1e-3 });
    expect(view.residualSeries("job")[0]!.points).toHaveLength(3);
  });

  it("a new attempt starts its line again; an older attempt's reports are dropped", () => {
    const view = new RequesterView();
    view.pushResidual("job", "job/0", "unit 0", 1, { iteration: 500, residual: 0.1 });
    view.pushResidual("job", "job/0", "unit 0", 2, { iteration: 10, residual: 0.5 });
    view.pushResidual("job", "job/0", "unit 0", 1, { iteration: 510, residual: 0.09 });
    expect(view.residualSeries("job")[0]!.points).toEqual([{ iteration: 10, residual: 0.5 }]);
  });

  it("returns the same arrays until a line changes (the views compare by identity)", () => {
    const view = new RequesterView();
    view.pushResidual("job", "job/0", "unit 0", 1, { iteration: 10, residual: 0.5 });
    view.pushResidual("job", "job/1", "unit 1", 1, { iteration: 10, residual: 0.5 });
    const first = view.residualSeries("job");
    view.pushResidual("job", "job/1", "unit 1", 1, { iteration: 20, residual: 0.4 });
    const second = view.residualSeries("job");
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
  });

  it("keeps a long line's shape in bounded memory", () => {
    const view = new RequesterView();
    for (let k = 1; k <= 10_000; k++)
      view.pushResidual("job", "job/0", "unit 0", 1, { iteration: k, residual: 1 / k });
    const points = view.residualSeries("job")[0]!.points;
    expect(points.length).toBeLessThanOrEqual(400);
    expect(points[0]!.iteration).toBe(1);
    expect(points.at(-1)!.iteration).toBe(10_000);
  });
});
