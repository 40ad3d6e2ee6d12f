import { compareOutputs, toleranceFor, type Comparison, type ProviderName } from "./tolerance.ts";

/**
 * Adaptive replication for expert outputs (the jobs issue's BOINC policy, trust/reputation.ts, decides when):
 * a batch served by a host that is not trusted yet, or by a trusted one when the 1/consecutiveValid draw
 * says so, is also computed by a second host or by the requester. Two remote answers that agree (within the
 * tolerance of their provider pair) validate both hosts. When they disagree, or when the check is local,
 * the requester's own computation decides: every host whose answer differs from it beyond tolerance lied,
 * its outputs are discarded and it is banned; the requester's outputs are the ones accepted.
 */
export interface RemoteAnswer {
  readonly hostId: string;
  readonly provider: ProviderName;
  readonly output: Float32Array;
}

export function replicasAgree(a: RemoteAnswer, b: RemoteAnswer, cols: number): Comparison {
  return compareOutputs(a.output, b.output, cols, toleranceFor(a.provider, b.provider).tolerance);
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
  referenceProvider: ProviderName,
  cols: number,
): Judgement[] {
  return answers.map((a) => {
    const comparison = compareOutputs(
      a.output,
      reference,
      cols,
      toleranceFor(a.provider, referenceProvider).tolerance,
    );
    return { hostId: a.hostId, honest: comparison.ok, comparison };
  });
}
