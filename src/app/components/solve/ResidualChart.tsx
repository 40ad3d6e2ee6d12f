import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ChartMarker, ResidualPoint } from "../../../state/solve/index.ts";

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

/**
 * Relative residual against iteration, log scale, redrawn in place as updates stream in. `markers` are
 * drawn as vertical lines (updates of A or b: the curve continues across them).
 */
export function ResidualChart({
  points,
  tol,
  markers = [],
}: {
  points: readonly ResidualPoint[];
  tol: number;
  markers?: readonly ChartMarker[];
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const markerRef = useRef(markers);

  useEffect(() => {
    if (!container.current) return;
    const width = Math.max(320, container.current.clientWidth);
    plot.current = new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [
          { label: "iteration" },
          {
            label: "‖b − Ax‖ / ‖b‖",
            size: 70,
            // uPlot's default labels round small values to 0 on a log scale.
            values: (_plot, splits) => splits.map((v) => (v == null ? "" : v.toExponential(0))),
          },
        ],
        series: [
          {},
          // uPlot's default shows points only while they are sparse: a job's first reports are visible.
          { label: "residual", stroke: "#2f7cf6", width: 2, points: { size: 5 } },
          { label: "tolerance", stroke: "#22a05b", dash: [6, 4], width: 1, points: { show: false } },
        ],
        legend: { show: true },
        hooks: { draw: [(u) => drawMarkers(u, markerRef.current)] },
      },
      [[], [], []],
      container.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    markerRef.current = markers; // read by the draw hook: set before setData redraws
    const xs = points.map((p) => p.iteration);
    const ys = points.map((p) => Math.max(p.residual, 1e-300));
    plot.current?.setData([xs, ys, xs.map(() => tol)]);
  }, [points, tol, markers]);

  return (
    <div
      ref={container}
      data-testid="residual-chart"
      data-markers={markers.map((m) => m.iteration).join(" ")}
    />
  );
}
