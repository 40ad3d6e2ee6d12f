import type { StoreApi } from "zustand/vanilla";
import type { ExpertRouter } from "../../core/experts/router/index.ts";
import type { ExpertLink } from "../../core/experts/link/index.ts";
import {
  ExpertError,
  manifestByDigest,
  type FetchedManifest,
  type ModelRunner,
  type ModelSource,
} from "../../core/experts/models/index.ts";
import { sha256Hex } from "../../core/base/digest.ts";
import {
  BatchError,
  checkBatchFits,
  looksLikeOnnx,
  MAX_MODEL_FILE_BYTES,
  parseInputBatch,
  type InputBatch,
} from "./batch.ts";
import { ExpertsInputError } from "./inputs.ts";
import { toJobError } from "./classify-view.ts";
import type { ExpertsState, GenericJobView } from "./types.ts";

/** What the generic job needs of the experts view (ExpertsJobs owns all of it). */
export interface GenericJobContext {
  readonly store: StoreApi<ExpertsState>;
  readonly runner: ModelRunner;
  readonly manifest: Promise<FetchedManifest | null>;
  readonly link: ExpertLink;
  /** The view's router, made on first use. */
  router(): Promise<ExpertRouter>;
  /** The job's outputs, handed over before its view says "done" (the view reads them then). */
  onOutputs(outputs: Map<string, { data: Float32Array; cols: number }>): void;
  publishStats(): void;
}

/** Progress reaches the view at most this often (as the classify job's). */
const UI_UPDATE_MS = 120;

/**
 * The generic ONNX job: any model and input batch the person uploads, sharded across the volunteers by the
 * router (ExpertRouter.runModel: every volunteer that loads the model takes batches, verified by canaries
 * and replication; this tab computes what they cannot). Every failure ends in the job's view as
 * { code, message }, never as a throw. `mode` says whether any row ran on a volunteer ("swarm") or all
 * ran in this tab ("local").
 */
export async function runGenericJob(
  ctx: GenericJobContext,
  id: number,
  modelFile: File,
  batchFile: File,
): Promise<void> {
  const store = ctx.store;
  const started = performance.now();
  const base: GenericJobView = {
    id,
    modelName: modelFile.name,
    modelSha256: "",
    modelBytes: modelFile.size,
    inputName: batchFile.name,
    inputShape: [],
    phase: "loading-inputs",
    rows: 0,
    rowsDone: 0,
    startedAtMs: Date.now(),
    elapsedMs: null,
    error: null,
    mode: "local",
    rowsBySource: {},
    outputs: [],
    routerJobId: null,
    revised: null,
  };
  store.setState({ generic: base });
  const patch = (p: Partial<GenericJobView>) => {
    const current = store.getState().generic;
    if (current?.id === id) store.setState({ generic: { ...current, ...p } });
  };
  try {
    if (modelFile.size > MAX_MODEL_FILE_BYTES) {
      throw new BatchError(
        "too_large",
        `${modelFile.name} is ${modelFile.size} bytes; models are limited to ${MAX_MODEL_FILE_BYTES / 1024 / 1024} MiB`,
      );
    }
    const modelBytes = new Uint8Array(await modelFile.arrayBuffer());
    if (!looksLikeOnnx(modelBytes)) {
      throw new ExpertsInputError(
        "not_onnx",
        `${modelFile.name} is not an ONNX model (an ONNX file is a protobuf ModelProto starting with its IR version)`,
      );
    }
    const batch: InputBatch = parseInputBatch(batchFile.name, new Uint8Array(await batchFile.arrayBuffer()));
    patch({ inputShape: batch.shape, rows: batch.rows, phase: "loading-models" });
    const sha256 = await sha256Hex(modelBytes);
    patch({ modelSha256: sha256 });
    // One of the site's own models is run as the site's (hosts load it from their copy, all optimisations
    // on); any other is sent as bytes, which every runner loads without graph optimisation.
    const fetched = await ctx.manifest;
    const source: ModelSource = (fetched &&
      manifestByDigest(fetched.manifest, (f) => new URL(f, fetched.url).href)(sha256)) ?? {
      kind: "bytes",
      sha256,
      bytes: modelBytes,
      label: modelFile.name,
    };
    let loaded;
    try {
      loaded = await ctx.runner.load(source);
    } catch (error) {
      if (error instanceof ExpertError && error.code === "corrupt_model") {
        throw new ExpertsInputError(
          "not_onnx",
          `${modelFile.name} is not a valid ONNX model: ${error.message}`,
        );
      }
      throw error;
    }
    checkBatchFits(batch, loaded);
    const router = await ctx.router();
    router.setVolunteers(ctx.link.connectedPeerIds());
    patch({ phase: "waiting-for-hosts" });
    let lastUpdate = 0;
    const result = await router.runModel(source, batch.data, batch.rows, {
      onStage: (stage) => patch({ phase: stage === "running" ? "running" : "waiting-for-hosts" }),
      onProgress: (p) => {
        const now = performance.now();
        if (now - lastUpdate < UI_UPDATE_MS && p.rowsDone < p.rows) return;
        lastUpdate = now;
        patch({ rowsDone: p.rowsDone });
      },
    });
    const outputs = new Map(result.outputNames.map((name) => [name, result.outputs[name]!]));
    ctx.onOutputs(outputs);
    patch({
      phase: "done",
      rowsDone: batch.rows,
      routerJobId: result.jobId,
      mode: Object.keys(result.rowsBySource).some((source) => source !== "local") ? "swarm" : "local",
      rowsBySource: result.rowsBySource,
      outputs: result.outputNames.map((name) => ({ name, cols: result.outputs[name]!.cols })),
      elapsedMs: performance.now() - started,
    });
    ctx.publishStats();
  } catch (error) {
    patch({ phase: "failed", error: toJobError(error, "generic"), elapsedMs: performance.now() - started });
  }
}
