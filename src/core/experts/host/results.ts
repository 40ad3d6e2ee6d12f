import { ExpertError, type LoadedModel, type RunOutput } from "../models/runner.ts";
import {
  joinXpOutputs,
  MAX_XP_OUTPUTS,
  MAX_XP_VALUES,
  type XpInferErrorCode,
  type XpInferRequest,
  type XpInferResult,
} from "../../protocol/experts.ts";

/**
 * From a run to the infer-result a requester gets: the model's first output (what an expert has), or every
 * output in the model's order when the request asks for them (the generic job), bounded like every xp
 * message (protocol/experts.ts).
 */
export interface OutputBlock {
  readonly name: string;
  data: Float32Array;
  readonly cols: number;
}

/** The outputs the request asked for, checked (one row per input row, within a message's bounds) and
 *  copied; throws ExpertError when they cannot travel. */
export function resultBlocks(request: XpInferRequest, info: LoadedModel, out: RunOutput): OutputBlock[] {
  const names = request.allOutputs ? info.outputNames : info.outputNames.slice(0, 1);
  const blocks = names.map((name) => {
    const o = out.outputs[name];
    if (!o) throw new ExpertError("runtime_failed", `the model produced no output ${name}`);
    if (o.data.length !== request.rows * o.cols) {
      throw new ExpertError(
        "runtime_failed",
        `output ${name} has ${o.data.length} values, not one row of ${o.cols} per input row`,
      );
    }
    return { name, data: o.data.slice(), cols: o.cols };
  });
  if (blocks.length === 0) throw new ExpertError("runtime_failed", "the model produced no output");
  if (blocks.length > MAX_XP_OUTPUTS) {
    throw new ExpertError(
      "bad_input",
      `the model has ${blocks.length} outputs; at most ${MAX_XP_OUTPUTS} travel`,
    );
  }
  const values = request.rows * blocks.reduce((n, b) => n + b.cols, 0);
  if (values > MAX_XP_VALUES) {
    throw new ExpertError(
      "bad_input",
      `the outputs of ${request.rows} rows are ${values} values, more than one message carries (${MAX_XP_VALUES}): send fewer rows`,
    );
  }
  return blocks;
}

export function resultMessage(
  request: XpInferRequest,
  blocks: readonly OutputBlock[],
  ms: number,
): XpInferResult {
  const head = { kind: "infer-result", id: request.id, rows: request.rows, ms } as const;
  return request.allOutputs
    ? { ...head, ...joinXpOutputs(request.rows, blocks) }
    : { ...head, cols: blocks[0]!.cols, data: blocks[0]!.data };
}

/** The code a failed run is reported with: the requester's fault when it is, else the runtime's. */
export function runErrorCode(error: unknown): XpInferErrorCode {
  return error instanceof ExpertError && (error.code === "bad_input" || error.code === "model_missing")
    ? error.code
    : "runtime_failed";
}
