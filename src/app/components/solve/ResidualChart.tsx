import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ChartMarker } from "../../../state/solve/index.ts";
import {
  buildChartModel,
  decadeLabels,
  ITERATION_INCRS,
  type ChartModel,
  TOLERANCE_COLOUR,
  type ChartSeries,
} from "./residual-chart-model.ts";

export type { ChartSeries } from "./residual-chart-model.ts";

/** Vertical dashed lines where the system was updated (the residual jumps there), with their labels. */
function drawMarkers(u: uPlot, markers: readonly ChartMarker[]): void {
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  ctx.save();
  ctx.strokeStyle = "#d9822b";
  ctx.fillStyle = "#d9822b";
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
  for (const m of markers) {
    const x = u.valToPos(m.iteration, "x", true);
    if (!Number.isFinite(x)) continue;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.fillText(m.label, x + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
  }
  ctx.restore();
}

/** The tolerance as a dashed line across the whole plot (a series of one point would draw nothing). */
function drawTolerance(u: uPlot, tol: number): void {
  const y = u.valToPos(tol, "y", true);
  if (!Number.isFinite(y)) return;
  const ctx = u.ctx;
  const { left, width } = u.bbox;
  ctx.save();
  ctx.strokeStyle = TOLERANCE_COLOUR;
  ctx.lineWidth = devicePixelRatio;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.beginPath();
  ctx.moveTo(left, y);
  ctx.lineTo(left + width, y);
  ctx.stroke();
  ctx.restore();
}

/** What the range functions and the draw hook read at each redraw (the latest render's). */
interface LiveState {
  readonly model: ChartModel;
  readonly markers: readonly ChartMarker[];
  readonly tol: number;
}

/** uPlot options for the model's series; ranges, labels and overlays read `live.current` at each redraw. */
function plotOptions(
  model: ChartModel,
  width: number,
  live: { readonly current: LiveState },
  /** Told the y scale uPlot actually set (tests read it from the container, not from pixels). */
  onYScale: (min: number, max: number) => void,
): uPlot.Options {
  return {
    width,
    height: 260,
    scales: {
      // Ranges from the model: always finite and at least one decade (see residual-chart-model.ts).
      x: { time: false, range: () => live.current.model.xRange },
      y: { distr: 3, range: () => live.current.model.yRange },
    },
    axes: [
      { label: "iteration", incrs: ITERATION_INCRS },
      {
        label: "‖b − Ax‖ / ‖b‖",
        size: 70,
        // uPlot's default labels round small values to 0 on a log scale, and crowd over many decades.
        values: (_plot, splits) => decadeLabels(splits, live.current.model.yRange),
      },
    ],
    series: [
      {},
      ...model.drawn.map((d) => ({
        label: d.label,
        stroke: d.colour,
        width: d.width,
        // A unit's progress reports can be far apart: connect them, and show the points while sparse.
        spanGaps: true,
        points: { size: 6 },
      })),
    ],
    ...(model.band ? { bands: [{ series: model.band, fill: "rgba(0, 114, 178, 0.12)" }] } : {}),
    // The legend is ours (below): uPlot's shows "--" until the cursor is over the plot.
    legend: { show: false },
    hooks: {
      setScale: [
        (u, key) => {
          if (key === "y") onYScale(u.scales["y"]!.min!, u.scales["y"]!.max!);
        },
      ],
      draw: [
        (u) => {
          drawTolerance(u, live.current.tol);
          drawMarkers(u, live.current.markers);
        },
      ],
    },
  };
}

/**
 * Relative residual against iteration on a log scale, one line per series (units of a job, stages of a
 * local solve) or, for many units, their min/median/max band; the tolerance dashed; updates of A or b
 * as vertical markers. Each series ends at its certified residual. The data attributes let tests read
 * what is drawn without pixels.
 */
export function ResidualChart({
  series,
  tol,
  markers = [],
  path = false,
}: {
  series: readonly ChartSeries[];
  tol: number;
  markers?: readonly ChartMarker[];
  /** The series are the stages of one solve, in order (see buildChartModel). */
  path?: boolean;
}) {
  const model = useMemo(() => buildChartModel(series, tol, { path }), [series, tol, path]);
  const outer = useRef<HTMLDivElement>(null);
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const current = useRef<LiveState>({ model, markers, tol });
  // Read by the range functions and the draw hook; set first, so the effects below see this render's.
  useEffect(() => {
    current.current = { model, markers, tol };
  }, [model, markers, tol]);
  // A new plot when the set of lines changes (uPlot's series are fixed at creation), else new data.
  const structure = model.seriesCount === 0 ? "" : JSON.stringify([model.mode, model.drawn]);

  useEffect(() => {
    if (structure === "" || !container.current) return;
    const width = Math.max(320, container.current.clientWidth);
    const { model: m } = current.current;
    plot.current = new uPlot(
      plotOptions(m, width, current, (min, max) => {
        outer.current?.setAttribute("data-y-range", `${min} ${max}`);
      }),
      m.data as uPlot.AlignedData,
      container.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [structure]);

  useEffect(() => {
    plot.current?.setData(model.data as uPlot.AlignedData);
  }, [model, markers]);

  return (
    <div
      ref={outer}
      data-testid="residual-chart"
      data-markers={markers.map((m) => m.iteration).join(" ")}
      data-series-count={model.seriesCount}
      data-mode={model.mode}
      data-last-residual={model.lastResidual ?? ""}
    >
      {model.seriesCount === 0 ? (
        <p className="muted" data-testid="residual-chart-empty">
          No residuals to draw.
        </p>
      ) : (
        <div ref={container} key={structure} />
      )}
      {model.seriesCount > 0 && (
        <ul className="chart-legend" data-testid="residual-chart-legend">
          {model.legend.map((e) => (
            <li key={e.key} data-series={e.key}>
              <span
                className="chart-swatch"
                style={{ borderTop: `3px ${e.dashed ? "dashed" : "solid"} ${e.colour}` }}
              />
              {e.label}
              {e.last !== null && <span className="mono"> {e.last.toExponential(2)}</span>}
              {e.certified && <span className="muted"> (certified)</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
