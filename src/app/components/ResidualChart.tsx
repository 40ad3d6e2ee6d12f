import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ResidualPoint } from "../../state/local-solve-store.ts";

/** Relative residual against iteration, log scale, redrawn in place as updates stream in. */
export function ResidualChart({ points, tol }: { points: readonly ResidualPoint[]; tol: number }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

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
    const xs = points.map((p) => p.iteration);
    const ys = points.map((p) => Math.max(p.residual, 1e-300));
    plot.current?.setData([xs, ys, xs.map(() => tol)]);
  }, [points, tol]);

  return <div ref={container} data-testid="residual-chart" />;
}
