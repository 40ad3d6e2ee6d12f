import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountApi, type ExpertJobs } from "../../../api/index.ts";
import type { ClassifyResult, RunModelResult } from "../../../src/core/experts/router/index.ts";
import { startTestServer, type TestServer } from "../signaling/helpers.ts";
import { call, post, refused } from "./helpers.ts";
import { jobResults, jobWhen, submitJob, type Doc } from "./jobs-helpers.ts";

// The expert jobs' plumbing against the real server, with a TEST-ONLY stand-in for the server's experts
// (the real ones, api/server-experts.ts, are built elsewhere behind the same ExpertJobs interface): what
// the routes hand it (rows flattened in order, the model's bytes), its progress and sources shown in the
// job's status, its answer as results, and DELETE reaching it as an aborted signal.

/** TEST ONLY: classify answers class = round(the row's first pixel × 10); runModel doubles its input. A row whose
 *  first value is 0.99 makes either call wait until its signal aborts (a job that runs until DELETE). */
class StandInExperts implements ExpertJobs {
  models: Uint8Array[] = [];
  aborted = 0;

  async classify(pixels: Float32Array, rows: number, control: Parameters<ExpertJobs["classify"]>[2]) {
    await this.#work(pixels[0]!, rows, control);
    const predictions = Int32Array.from({ length: rows }, (_, r) => Math.round(pixels[r * 784]! * 10));
    const logits = new Float32Array(rows * 10);
    predictions.forEach((p, r) => (logits[r * 10 + p] = 1));
    return {
      jobId: "j",
      rows,
      logits,
      predictions,
      rowsPerExpert: [rows],
      rowsBySource: { local: rows },
    } as Partial<ClassifyResult> as ClassifyResult;
  }

  async runModel(
    model: Uint8Array,
    input: Float32Array,
    rows: number,
    control: Parameters<ExpertJobs["runModel"]>[3],
  ) {
    this.models.push(model);
    await this.#work(input[0]!, rows, control);
    const data = input.map((v) => 2 * v);
    return {
      jobId: "j",
      rows,
      sha256: "ab",
      outputs: { y: { data, cols: input.length / rows } },
      outputNames: ["y"],
      rowsBySource: { "peer-1": rows },
    } as Partial<RunModelResult> as RunModelResult;
  }

  async #work(
    first: number,
    rows: number,
    control: {
      signal: AbortSignal;
      onProgress: (p: { jobId: string; rowsDone: number; rows: number }) => void;
    },
  ) {
    control.onProgress({ jobId: "j", rowsDone: 1, rows });
    if (Math.abs(first - 0.99) > 1e-6) return;
    await new Promise<void>((_, reject) =>
      control.signal.addEventListener("abort", () => {
        this.aborted++;
        reject(control.signal.reason as Error);
      }),
    );
  }
}

const experts = new StandInExperts();
let t: TestServer;

beforeAll(async () => {
  const config = { requestRatePerS: 10_000, requestBurst: 10_000, swarm: { enabled: false }, experts };
  t = await startTestServer({ configureApp: (app, context) => mountApi(app, context, config) });
});
afterAll(async () => {
  await t.close();
});

const image = (first: number): number[] => Array.from({ length: 784 }, (_, i) => (i === 0 ? first : 0.5));

describe("expert jobs (stand-in experts)", () => {
  it("classify: rows in order, predictions and where they ran", async () => {
    const id = String(
      (await submitJob(t.baseUrl, { kind: "classify", images: [image(0.3), image(0.7)] }))["job_id"],
    );
    const status = await jobWhen(t.baseUrl, id, (s) => s["status"] === "done");
    expect(status).toMatchObject({
      computed_on: "experts",
      progress: { of: "rows", done: 2, total: 2 },
      rows_by_source: { local: 2 },
    });
    const results = (await (await jobResults(t.baseUrl, id)).json()) as Doc;
    expect(results).toMatchObject({ kind: "classify", rows: 2, predictions: [3, 7], classes: 10 });
  });

  it("onnx: the model's bytes from base64, outputs by name", async () => {
    const model = Buffer.from([8, 1, 2, 3]).toString("base64");
    const body = {
      kind: "onnx",
      model,
      input: [
        [1, 2],
        [3, 4],
      ],
      cols: 2,
    };
    const id = String((await submitJob(t.baseUrl, body))["job_id"]);
    await jobWhen(t.baseUrl, id, (s) => s["status"] === "done");
    expect([...experts.models.at(-1)!]).toEqual([8, 1, 2, 3]);
    const results = (await (await jobResults(t.baseUrl, id)).json()) as Doc;
    expect(results).toMatchObject({
      kind: "onnx",
      output_names: ["y"],
      outputs: { y: { cols: 2, data: [2, 4, 6, 8] } },
    });
    await refused(
      await post(t.baseUrl, "/api/v1/jobs", { ...body, input: [[1, 2], [3]] }),
      400,
      "invalid_request",
    );
  });

  it("DELETE aborts a running expert job through its signal", async () => {
    const id = String((await submitJob(t.baseUrl, { kind: "classify", images: [image(0.99)] }))["job_id"]);
    await jobWhen(t.baseUrl, id, (s) => (s["progress"] as { done: number }).done === 1);
    const res = await call(t.baseUrl, `/api/v1/jobs/${id}`, {}, "DELETE");
    expect(await res.json()).toMatchObject({ status: "cancelled", cancelled: true });
    expect(experts.aborted).toBe(1);
  });
});
