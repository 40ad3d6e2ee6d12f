import type { ClassifyResult, RouterProgress, RunModelResult } from "../../src/core/experts/router/index.ts";
export interface ExpertJobControl {
  readonly signal: AbortSignal;
  readonly onProgress: (p: RouterProgress) => void;
}
export interface ExpertJobs {
  classify(pixels: Float32Array, rows: number, control: ExpertJobControl): Promise<ClassifyResult>;
  runModel(
    model: Uint8Array,
    input: Float32Array,
    rows: number,
    control: ExpertJobControl,
  ): Promise<RunModelResult>;
}
