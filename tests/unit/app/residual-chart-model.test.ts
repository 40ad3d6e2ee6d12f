import { describe, expect, it } from "vitest";
import {
  BAND_ABOVE,
  buildChartModel,
  decadeLabels,
  iterationRange,
  logRange,
  LOG_MAX,
  LOG_MIN,
  plotValue,
  ZERO_AT,
  type ChartSeries,
} from "../../../src/app/components/solve/residual-chart-model.ts";

function line(key: string, points: [number, number][], certified = false): ChartSeries {
  return {
    key,
    label: key,
    points: points.map(([iteration, residual]) => ({ iteration, residual })),
    certified,
  };
}

/** What uPlot's log axis needs: finite positive bounds, at least a decade apart, inside its 1e-32..1e31. */
function expectSaneLogRange([lo, hi]: [number, number]): void {
  expect(Number.isFinite(lo) && Number.isFinite(hi)).toBe(true);
  expect(lo).toBeGreaterThanOrEqual(LOG_MIN);
  expect(hi).toBeLessThanOrEqual(LOG_MAX);
  expect(hi / lo).toBeGreaterThanOrEqual(10 * (1 - 1e-12));
  // Whole decades, written exactly (10 ** -24 is not 1e-24, and uPlot's splits then loop).
  expect(lo.toExponential()).toMatch(/^1e[-+]\d+$/);
  expect(hi.toExponential()).toMatch(/^1e[-+]\d+$/);
}

describe("the residual chart's scales", () => {
  it("a zero residual (b = 0, x = 0) is drawn at a floor, never as 0 or 1e-300 on the log axis", () => {
    expect(plotValue(0)).toBe(ZERO_AT);
    const model = buildChartModel([line("b = 0, so x = 0", [[0, 0]], true)], 1e-8);
    expectSaneLogRange(model.yRange);
    expect(model.yRange[0]).toBeLessThanOrEqual(ZERO_AT);
    expect(model.yRange[1]).toBeGreaterThanOrEqual(1e-8);
    // A single point at iteration 0 still has an x axis.
    expect(model.xRange).toEqual([0, 1]);
    expect(model.lastResidual).toBe(0);
  });

  it("min == max gets one decade; extreme values are clamped into uPlot's range", () => {
    expectSaneLogRange(logRange([1e-3, 1e-3], 1e-3));
    expectSaneLogRange(logRange([1e-300], 1e-8));
    expectSaneLogRange(logRange([1e300, Infinity], 1e-8));
    expectSaneLogRange(logRange([], Number.NaN));
    expectSaneLogRange(logRange([null, null], 0));
    expect(plotValue(Number.NaN)).toBeNull();
    expect(plotValue(1e-300)).toBe(LOG_MIN);
    expect(plotValue(Infinity)).toBe(LOG_MAX);
  });

  it("every range over random residuals is sane (property)", () => {
    for (let i = 0; i < 2000; i++) {
      const values = Array.from({ length: 1 + (i % 5) }, () =>
        Math.random() < 0.2 ? 0 : 10 ** (Math.random() * 700 - 350),
      );
      expectSaneLogRange(logRange(values.map(plotValue), 10 ** (Math.random() * 20 - 18)));
    }
  });

  it("iterations: [0, last], at least 1 wide", () => {
    expect(iterationRange([])).toEqual([0, 1]);
    expect(iterationRange([0])).toEqual([0, 1]);
    expect(iterationRange([10, 531])).toEqual([0, 531]);
  });
});

describe("the residual chart's lines", () => {
  it("one line per unit, each with its own colour and a legend entry with its last (certified) residual", () => {
    const model = buildChartModel(
      [
        line(
          "unit 0",
          [
            [10, 0.5],
            [20, 1e-3],
            [25, 9e-9],
          ],
          true,
        ),
        line(
          "unit 1",
          [
            [10, 0.2],
            [40, 5e-9],
          ],
          true,
        ),
      ],
      1e-8,
    );
    expect(model.mode).toBe("lines");
    expect(model.seriesCount).toBe(2);
    expect(model.data[0]).toEqual([10, 20, 25, 40]);
    expect(model.data[1]).toEqual([0.5, 1e-3, 9e-9, null]);
    expect(model.data[2]).toEqual([0.2, null, null, 5e-9]);
    expect(model.data).toHaveLength(3); // the tolerance is drawn across the plot, not as a series
    const colours = model.drawn.map((d) => d.colour);
    expect(new Set(colours).size).toBe(2);
    expect(model.legend.map((e) => [e.label, e.last, e.certified])).toEqual([
      ["unit 0", 9e-9, true],
      ["unit 1", 5e-9, true],
      ["tolerance", 1e-8, false],
    ]);
    expect(model.lastResidual).toBe(9e-9);
    // The range reaches down to the certified values.
    expect(model.yRange[0]).toBeLessThanOrEqual(5e-9);
  });

  it(`more than ${BAND_ABOVE} units: min, median and max, a finished unit holding its final residual`, () => {
    const series = Array.from({ length: BAND_ABOVE + 1 }, (_, u) =>
      line(
        `unit ${u}`,
        [
          [0, 1],
          [u + 1, 10 ** -(u + 1)],
        ],
        true,
      ),
    );
    const model = buildChartModel(series, 1e-8);
    expect(model.mode).toBe("band");
    expect(model.seriesCount).toBe(BAND_ABOVE + 1);
    expect(model.drawn.map((d) => d.label)).toEqual([
      "max of 9 units",
      "median of 9 units",
      "min of 9 units",
    ]);
    const [xs, max, med, min] = model.data;
    expect(xs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(max![0]).toBe(1);
    expect(min![9]).toBeCloseTo(1e-9, 20);
    expect(max![9]).toBeCloseTo(1e-1, 12); // unit 0 finished at iteration 1 with 1e-1 and holds it
    expect(med![9]).toBeCloseTo(1e-5, 15);
    expect(model.band).toEqual([1, 3]);
    expect(model.lastResidual).toBeCloseTo(1e-1, 12);
    expect(model.legend.find((e) => e.key === "certified")!.label).toBe("9 of 9 units certified");
  });

  it("no series: nothing to draw (the chart is left out, not old axes around an empty plot)", () => {
    const model = buildChartModel([line("unit 0", [])], 1e-8);
    expect(model.seriesCount).toBe(0);
    expect(model.lastResidual).toBeNull();
  });
});

describe("the residual chart along one solve's path", () => {
  it("the final residual is the last stage's certified end, not the worst of the stages' ends", () => {
    const stages = [
      line("cg+jacobi", [
        [10, 0.5],
        [300, 3e-5],
      ]),
      line(
        "direct",
        [
          [300, 3e-5],
          [302, 6e-16],
        ],
        true,
      ),
    ];
    expect(buildChartModel(stages, 1e-8, { path: true }).lastResidual).toBe(6e-16);
    expect(buildChartModel(stages, 1e-8).lastResidual).toBe(3e-5);
  });

  it("many stages (warm re-solves) stay lines, never a band", () => {
    const stages = Array.from({ length: BAND_ABOVE + 3 }, (_, k) =>
      line(`s${k}`, [
        [k, 1],
        [k + 1, 0.5],
      ]),
    );
    expect(buildChartModel(stages, 1e-8, { path: true }).mode).toBe("lines");
  });
});

describe("the residual chart's axes", () => {
  it("labels about six whole decades however many the range spans", () => {
    const splits = [
      1e-16, 2e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2,
      1e-1, 1,
    ];
    const labels = decadeLabels(splits, [1e-16, 1]).filter((l) => l !== "");
    expect(labels.length).toBeGreaterThanOrEqual(4);
    expect(labels.length).toBeLessThanOrEqual(7);
    expect(labels).toContain("1e0");
    expect(decadeLabels([1e-3, 2e-3, 1e-2], [1e-3, 1e-2])).toEqual(["1e-3", "", "1e-2"]);
  });

  it("the tolerance is never on the edge of the range", () => {
    const [lo, hi] = logRange([1e-3, 0.5], 1e-8);
    expect(lo).toBeLessThan(1e-8);
    expect(hi).toBeGreaterThan(0.5);
    expect(logRange([ZERO_AT], 1e-8)[1]).toBeGreaterThan(1e-8);
  });
});
