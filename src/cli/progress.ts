import type { IterationUpdate } from "../core/solver/types.ts";

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressLine {
  onUpdate(update: IterationUpdate): void;
  /** Erases the line (if one was drawn) so later output starts clean. */
  finish(): void;
}

/** Short solves finish before a line would help; only draw once a solve has run this long. */
const SHOW_AFTER_MS = 300;
/** Redraws per second: enough to look alive, few enough to cost nothing. */
const REDRAW_INTERVAL_MS = 100;

function formatRate(rate: number): string {
  return Number.isFinite(rate) ? rate.toFixed(4) : "-";
}

/**
 * A single `\r`-rewritten status line on a terminal's stderr: stage, iteration, residual, rate.
 * Writes to a TTY are synchronous in Node, so the line updates even while a synchronous solve holds the
 * event loop.
 */
export function createProgressLine(
  stream: ProgressStream,
  now: () => number = () => performance.now(),
): ProgressLine {
  const start = now();
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    onUpdate(u: IterationUpdate): void {
      const t = now();
      if (t - start < SHOW_AFTER_MS || t - lastDraw < REDRAW_INTERVAL_MS) return;
      lastDraw = t;
      const seconds = ((t - start) / 1000).toFixed(1);
      let line =
        `${u.method}  iter ${u.iteration}  residual ${u.residual_norm.toExponential(2)}` +
        `  rate ${formatRate(u.convergence_rate)}/iter  ${seconds}s`;
      const width = stream.columns ?? 0;
      if (width > 1 && line.length >= width) line = line.slice(0, width - 1);
      stream.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    finish(): void {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}
