import type { ClassifyJobBody, OnnxJobBody } from "./job-schemas.ts";
import type { ExpertJobs } from "./expert-jobs.ts";
import type { Job, JobResults } from "./job.ts";
import { asCoded } from "./solve-job.ts";

/**
 * A classify or onnx job on the server's experts (ExpertJobs): the rows go to the mixture-of-experts router
 * (which places them on expert hosts, verifies, and computes locally what nobody serves); its progress is
 * the job's, its rows per source say where they ran, and DELETE aborts it through the signal.
 */
export async function runExpertJob(
  job: Job,
  body: ClassifyJobBody | OnnxJobBody,
  experts: ExpertJobs,
): Promise<void> {
  const rows = body.kind === "classify" ? body.images.length : body.input.length;
  const control = {
    signal: job.abort.signal,
    onProgress: (p: { rowsDone: number; rows: number }) =>
      job.update((j) => (j.progress = { done: p.rowsDone, total: p.rows })),
  };
  job.update((j) => {
    j.status = "running";
    j.computedOn = "experts";
    j.progress = { done: 0, total: rows };
  });
  try {
    let results: JobResults;
    if (body.kind === "classify") {
      const result = await experts.classify(Float32Array.from(body.images.flat()), rows, control);
      job.update((j) => (j.rowsBySource = result.rowsBySource));
      results = {
        rows,
        predictions: Array.from(result.predictions),
        classes: result.logits.length / rows,
        logits: Array.from(result.logits),
        rows_per_expert: result.rowsPerExpert,
      };
    } else {
      const model = new Uint8Array(Buffer.from(body.model, "base64"));
      const result = await experts.runModel(model, Float32Array.from(body.input.flat()), rows, control);
      job.update((j) => (j.rowsBySource = result.rowsBySource));
      const outputs: Record<string, { cols: number; data: number[] }> = {};
      for (const name of result.outputNames) {
        const output = result.outputs[name]!;
        outputs[name] = { cols: output.cols, data: Array.from(output.data) };
      }
      results = { rows, model_sha256: result.sha256, output_names: result.outputNames, outputs };
    }
    job.update((j) => (j.progress = { done: rows, total: rows }));
    job.finish("done", results);
  } catch (error) {
    if (job.abort.signal.aborted) job.finish("cancelled", null);
    else job.finish("failed", null, asCoded(error));
  }
}
