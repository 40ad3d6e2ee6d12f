import type { ModelSpeedRow, MoeModel } from "./rows.ts";
import { median, perSecond } from "./stats.ts";

/** What one runtime measured for one model: wall and compute ms of each timed pass over the images. */
export interface PassTimes {
  readonly model: MoeModel;
  readonly provider: string;
  readonly passWallMs: readonly number[];
  readonly passComputeMs: readonly number[];
  readonly loadMs: number;
  /** Argmax per image of the last pass. */
  readonly predictions: readonly number[];
}

export interface PassSettings {
  readonly images: number;
  readonly batchRows: number;
  readonly threads: number;
}

/** A ModelSpeedRow from timed passes: per-pass samples/s, their median, min and max. */
export function speedRow(
  runtime: ModelSpeedRow["runtime"],
  times: PassTimes,
  settings: PassSettings,
  mismatchesVsNative: number | null,
): ModelSpeedRow {
  const rates = times.passWallMs
    .map((ms) => perSecond(settings.images, ms))
    .filter((x): x is number => x !== null);
  const compute = times.passComputeMs
    .map((ms) => perSecond(settings.images, ms))
    .filter((x): x is number => x !== null);
  return {
    model: times.model,
    runtime,
    provider: times.provider,
    threads: settings.threads,
    images: settings.images,
    batch_rows: settings.batchRows,
    reps: times.passWallMs.length,
    samples_per_s_median: median(rates),
    samples_per_s_min: rates.length ? Math.min(...rates) : null,
    samples_per_s_max: rates.length ? Math.max(...rates) : null,
    compute_samples_per_s_median: median(compute),
    pass_ms: times.passWallMs.map((ms) => Math.round(ms * 100) / 100),
    load_ms: Math.round(times.loadMs * 100) / 100,
    prediction_mismatches_vs_native: mismatchesVsNative,
  };
}
