import type { ResidualPoint } from "./store.ts";

/** A line of the local solve's chart: one stage of the path (the app's ResidualChart draws these). */
export interface StageSeries {
  key: string;
  label: string;
  points: ResidualPoint[];
  /** Its last point is the run's certified residual. */
  certified: boolean;
}

/**
 * The history as one line per stage run, in order: a hybrid's CG, then BiCGSTAB, then the direct solve
 * (often a single point: its certified residual at the final iteration). Each line starts at the previous
 * line's last point so the path reads as one curve changing colour. A stage that runs again later (a
 * warm re-solve after an update) is a new line, numbered, rather than a jump drawn across the others.
 */
export function stageSeries(history: readonly ResidualPoint[]): StageSeries[] {
  const out: StageSeries[] = [];
  const runs = new Map<string, number>();
  let line = null as StageSeries | null;
  let stage: string | null = null;
  for (const p of history) {
    // A run's certified end closes its line: what follows is a new run (a warm re-solve).
    if (line === null || stage !== p.stage || line.certified) {
      const previous: ResidualPoint | undefined = line === null ? undefined : line.points.at(-1);
      const count = (runs.get(p.stage) ?? 0) + 1;
      runs.set(p.stage, count);
      line = {
        key: `${p.stage}#${count}`,
        label: count === 1 ? p.stage : `${p.stage} (${count})`,
        points: previous === undefined ? [] : [previous],
        certified: false,
      };
      stage = p.stage;
      out.push(line);
    }
    line.points.push(p);
    line.certified = p.certified === true;
  }
  return out;
}
