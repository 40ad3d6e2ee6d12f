import { compareOutputs, type Comparison, type Tolerance } from "./tolerance.ts";

/**
 * Checking one remote answer against another computation of the same batch (verify.ts decides when and by
 * whom). Two answers agree within the tolerance the requester set for the model it sent (tolerance.ts),
 * never one a host chose. When a checker disagrees, or the check is local, the requester's own computation
 * decides: every host whose answer differs from it beyond tolerance lied, its outputs are discarded and it
 * is banned; the requester's outputs are the ones accepted.
 */
export interface RemoteAnswer {
  readonly hostId: string;
  readonly output: Float32Array;
  /** The infer-request's id, for the host's batch-verdict (absent: nothing to tell it). */
  readonly callId?: string;
}

export function replicasAgree(
  a: RemoteAnswer,
  b: RemoteAnswer,
  cols: number,
  tolerance: Tolerance,
): Comparison {
  return compareOutputs(a.output, b.output, cols, tolerance);
}

export interface Judgement {
  readonly hostId: string;
  readonly honest: boolean;
  readonly comparison: Comparison;
}

/** Each answer against the requester's own output (the arbiter). */
export function adjudicate(
  answers: readonly RemoteAnswer[],
  reference: Float32Array,
  cols: number,
  tolerance: Tolerance,
): Judgement[] {
  return answers.map((a) => {
    const comparison = compareOutputs(a.output, reference, cols, tolerance);
    return { hostId: a.hostId, honest: comparison.ok, comparison };
  });
}
