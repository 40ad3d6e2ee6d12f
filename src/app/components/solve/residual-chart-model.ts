/**
 * What the residual chart draws, as plain data (no DOM, no uPlot instance): the aligned columns, the
 * series' names and colours, and a log-scale range that is always finite. Kept apart from the component
 * so the rules (a zero residual, a single point, a flat series, many units) are tested in node.
 */

export interface ChartPoint {
  iteration: number;
  residual: number;
}

/** One line: a unit of a swarm job, or a stage of a local solve. */
export interface ChartSeries {
  key: string;
  label: string;
  points: readonly ChartPoint[];
  /** The last point is the requester's (or the solve's) own certificate, not a progress report. */
  certified: boolean;
}

/** Above this many series the chart draws the units' min, median and max instead of one line each. */
export const BAND_ABOVE = 8;
/**
 * uPlot's log axis steps through 1e-32..1e31 (its numIncrs); a range outside it loops without end
 * ("RangeError: Invalid array length" in its splits). Plotted values are clamped into [LOG_MIN, LOG_MAX].
 */
export const LOG_MIN = 1e-30;
export const LOG_MAX = 1e30;
/** Where a residual of exactly 0 is drawn (below double rounding of a relative residual). */
export const ZERO_AT = 1e-17;

/** Distinct on white and for the common colour-vision deficiencies (Okabe-Ito, then Tableau). */
export const SERIES_COLOURS = [
  "#0072b2",
  "#e69f00",
  "#cc79a7",
  "#009e73",
  "#d55e00",
  "#56b4e9",
  "#7f3c8d",
  "#8c6d31",
];
export const TOLERANCE_COLOUR = "#22a05b";
const BAND_COLOUR = "#0072b2";

export interface LegendEntry {
  key: string;
  label: string;
  colour: string;
  /** The series' last residual (its certificate when `certified`), or null when it has no point. */
  last: number | null;
  certified: boolean;
  dashed?: boolean;
}

export interface ChartModel {
  mode: "lines" | "band";
  /** uPlot's columns: iterations, then one column per drawn series (the tolerance is drawn apart). */
  data: (number | null)[][];
  /** Drawn series (not the x column). */
  drawn: { label: string; colour: string; width: number }[];
  /** In band mode, the indices (into uPlot's series, x = 0) of the max and min columns for the fill. */
  band: [number, number] | null;
  legend: LegendEntry[];
  yRange: [number, number];
  xRange: [number, number];
  /** The final residual: the last stage's end along a path, else the worst end over the units. */
  lastResidual: number | null;
  seriesCount: number;
}

/** 10^k exactly as a literal (10 ** -24 is 1.0000000000000001e-24, which uPlot's splits then miss). */
function decade(k: number): number {
  return Number(`1e${k}`);
}

/** A residual as drawn on the log axis: 0 at ZERO_AT, clamped into uPlot's range; NaN/∞ as a gap. */
export function plotValue(residual: number): number | null {
  if (Number.isNaN(residual) || residual < 0) return null;
  if (residual === Infinity) return LOG_MAX;
  if (residual === 0) return ZERO_AT;
  return Math.min(LOG_MAX, Math.max(LOG_MIN, residual));
}

/**
 * Whole decades around the plotted values (and the tolerance), at least one decade wide, inside
 * [LOG_MIN, LOG_MAX]: never 0, never min == max, never a NaN.
 */
export function logRange(values: readonly (number | null)[], tol: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...values, plotValue(tol)]) {
    if (v === null || !(v > 0) || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === Infinity) return [decade(-10), 1];
  // Strictly inside: a value (the tolerance line) on the plot's edge is hidden by the frame.
  const kLo = Math.max(Math.ceil(Math.log10(lo)) - 1, -30);
  const kHi = Math.min(Math.floor(Math.log10(hi)) + 1, 30);
  return [decade(Math.min(kLo, 29)), decade(Math.max(kHi, Math.min(kLo, 29) + 1))];
}

/**
 * The y axis' labels: whole decades only, every `step`-th one so that about six are labelled however
 * many decades the range spans (16 decades in 260 px overlapped).
 */
export function decadeLabels(splits: readonly (number | null)[], range: readonly [number, number]): string[] {
  const decades = Math.round(Math.log10(range[1] / range[0]));
  const step = Math.max(1, Math.ceil(decades / 6));
  return splits.map((v) => {
    if (v == null || !(v > 0)) return "";
    const k = Math.round(Math.log10(v));
    return Math.abs(v / decade(k) - 1) < 1e-9 && k % step === 0 ? `1e${k}` : "";
  });
}

/** Whole iterations on the x axis (1, 2, 5, 10, 20, 50, …), never 0.1 steps. */
export const ITERATION_INCRS = Array.from({ length: 8 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

/** Iterations from the first to the last point, at least 1 wide (a single point at 0 still has an axis). */
export function iterationRange(xs: readonly number[]): [number, number] {
  if (xs.length === 0) return [0, 1];
  const lo = Math.min(0, xs[0]!);
  const hi = xs[xs.length - 1]!;
  return [lo, hi > lo ? hi : lo + 1];
}

function lastOf(s: ChartSeries): number | null {
  return s.points.length === 0 ? null : s.points[s.points.length - 1]!.residual;
}

/** A series' value at each x: its own points there (the last one wins), null elsewhere. */
function column(s: ChartSeries, index: Map<number, number>, length: number): (number | null)[] {
  const col: (number | null)[] = new Array<number | null>(length).fill(null);
  for (const p of s.points) col[index.get(p.iteration)!] = plotValue(p.residual);
  return col;
}

/**
 * Each series' last known value at every x from its first point on (a finished unit keeps its final
 * residual), reduced to the min, median and max over the series known there.
 */
function bandColumns(cols: (number | null)[][], length: number): (number | null)[][] {
  const min: (number | null)[] = [];
  const med: (number | null)[] = [];
  const max: (number | null)[] = [];
  const held: (number | null)[] = cols.map(() => null);
  for (let i = 0; i < length; i++) {
    const known: number[] = [];
    cols.forEach((c, s) => {
      if (c[i] !== null) held[s] = c[i]!;
      if (held[s] !== null) known.push(held[s]!);
    });
    known.sort((a, b) => a - b);
    const n = known.length;
    min.push(n === 0 ? null : known[0]!);
    max.push(n === 0 ? null : known[n - 1]!);
    med.push(
      n === 0 ? null : n % 2 === 1 ? known[(n - 1) / 2]! : Math.sqrt(known[n / 2 - 1]! * known[n / 2]!),
    );
  }
  return [max, med, min];
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : Math.sqrt(s[m - 1]! * s[m]!);
}

/**
 * `path`: the series are the stages of one solve, in order (a local solve), so its final residual is the
 * last stage's end and they are never folded into a band; otherwise they are parallel units of a job and
 * the final residual is the worst of their ends.
 */
export function buildChartModel(
  series: readonly ChartSeries[],
  tol: number,
  { path = false }: { path?: boolean } = {},
): ChartModel {
  const shown = series.filter((s) => s.points.length > 0);
  const xs = [...new Set(shown.flatMap((s) => s.points.map((p) => p.iteration)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const cols = shown.map((s) => column(s, index, xs.length));
  const lasts = shown.map(lastOf).filter((v): v is number => v !== null && !Number.isNaN(v));
  const lastResidual = path
    ? shown.length === 0
      ? null
      : lastOf(shown[shown.length - 1]!)
    : lasts.length === 0
      ? null
      : Math.max(...lasts);
  const tolEntry: LegendEntry = {
    key: "tolerance",
    label: "tolerance",
    colour: TOLERANCE_COLOUR,
    last: tol,
    certified: false,
    dashed: true,
  };
  const common = {
    xRange: iterationRange(xs),
    lastResidual,
    seriesCount: shown.length,
  };

  if (!path && shown.length > BAND_ABOVE) {
    const [max, med, min] = bandColumns(cols, xs.length);
    const certified = shown.filter((s) => s.certified).length;
    const of = `of ${shown.length} units`;
    const lastMin = Math.min(...lasts);
    return {
      ...common,
      mode: "band",
      data: [xs, max!, med!, min!],
      drawn: [
        { label: `max ${of}`, colour: BAND_COLOUR, width: 1 },
        { label: `median ${of}`, colour: BAND_COLOUR, width: 2 },
        { label: `min ${of}`, colour: BAND_COLOUR, width: 1 },
      ],
      band: [1, 3],
      legend: [
        { key: "max", label: `worst ${of}`, colour: BAND_COLOUR, last: lastResidual, certified: false },
        { key: "median", label: `median ${of}`, colour: BAND_COLOUR, last: median(lasts), certified: false },
        {
          key: "min",
          label: `best ${of}`,
          colour: BAND_COLOUR,
          last: lasts.length === 0 ? null : lastMin,
          certified: false,
        },
        {
          key: "certified",
          label: `${certified} of ${shown.length} units certified`,
          colour: "transparent",
          last: null,
          certified: false,
        },
        tolEntry,
      ],
      yRange: logRange([...max!, ...min!], tol),
    };
  }
  const colours = shown.map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length]!);
  return {
    ...common,
    mode: "lines",
    data: [xs, ...cols],
    drawn: shown.map((s, i) => ({ label: s.label, colour: colours[i]!, width: 2 })),
    band: null,
    legend: [
      ...shown.map((s, i) => ({
        key: s.key,
        label: s.label,
        colour: colours[i]!,
        last: lastOf(s),
        certified: s.certified,
      })),
      tolEntry,
    ],
    yRange: logRange(cols.flat(), tol),
  };
}
