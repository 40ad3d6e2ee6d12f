import { afterEach, describe, expect, it } from "vitest";
import { RESIDUAL_POINTS_CAP, RequesterView } from "../../../src/core/jobs/requester/view.ts";
import { loadViewSnapshot, saveViewSnapshot } from "../../../src/core/jobs/requester/view-snapshot.ts";
import { cleanup, freshDbName, openRepo } from "./runtime-helpers.ts";

afterEach(cleanup);

// The saved view of a job (issue 11 item 6) is bounded however many lines its chart has, and every line
// keeps its start and its certificate; what does not parse is ignored, not shown.

describe("view snapshot", () => {
  it("a 1000-line chart is saved within 20,000 points, each line keeping its first point and its certificate", async () => {
    const repo = openRepo(freshDbName());
    const view = new RequesterView();
    for (let u = 0; u < 1000; u++) {
      for (let i = 1; i <= RESIDUAL_POINTS_CAP; i++)
        view.pushResidual("job", `job/${u}`, `unit ${u}`, 1, { iteration: i, residual: 1 / i });
      view.certify("job", `job/${u}`, `unit ${u}`, 1, { iteration: 999, residual: 1e-9 });
    }
    view.setUnitClaims("job/0", { iterations: 999, relResidual: 2e-9 });
    await saveViewSnapshot(repo, view, "job", ["job/0", "job/1"], 1);

    const back = new RequesterView();
    await loadViewSnapshot(repo, back, "job");
    const lines = back.residualSeries("job");
    expect(lines).toHaveLength(1000);
    expect(lines.reduce((n, l) => n + l.points.length, 0)).toBeLessThanOrEqual(20_000);
    for (const line of lines) {
      expect(line.certified).toBe(true);
      expect(line.points[0]).toEqual({ iteration: 1, residual: 1 });
      expect(line.points.at(-1)).toEqual({ iteration: 999, residual: 1e-9 });
    }
    expect(back.unitClaims("job/0")).toEqual({ iterations: 999, relResidual: 2e-9 });
    expect(back.unitClaims("job/1")).toBeNull();
  });

  it("a snapshot that does not parse restores nothing", async () => {
    const repo = openRepo(freshDbName());
    await repo.putBlob("view/job", new TextEncoder().encode('{"series":[{"key":1}]}'), 1);
    const view = new RequesterView();
    await loadViewSnapshot(repo, view, "job");
    expect(view.residualSeries("job")).toEqual([]);
  });
});
