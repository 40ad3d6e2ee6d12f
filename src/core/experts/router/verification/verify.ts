import type { CanarySupply } from "./canaries.ts";
import { acquireHost, isSelf, type RouterCore } from "../core.ts";
import type { HostEntry } from "../dispatch/hosts.ts";
import type { JobModel } from "../jobs/job.ts";
import type { RowLedger } from "./row-ledger.ts";
import { adjudicate, replicasAgree, type RemoteAnswer } from "./replication.ts";

/** Sends a batch to a host (dispatch/dispatch.ts): its verified-by-canaries answer, or null. */
export type AskHost = (
  entry: HostEntry,
  model: JobModel,
  input: Float32Array,
  rows: number,
  supply: CanarySupply,
) => Promise<RemoteAnswer | null>;

/**
 * Adaptive replication of one remote answer (replication.ts, driven by trust/reputation.ts): the output to
 * accept and who it is credited to. A second host computes the batch when the reputation book says so;
 * when the two disagree, or no second host answers, the requester's own computation decides and every
 * host that differs from it is punished. This tab's own host is not replicated (its answer is the
 * requester's own computation).
 */
export async function verifyAnswer(
  core: RouterCore,
  ledger: RowLedger,
  ask: AskHost,
  model: JobModel,
  input: Float32Array,
  rows: number,
  supply: CanarySupply,
  answer: RemoteAnswer,
  tried: Set<string>,
): Promise<{ output: Float32Array; source: string }> {
  const { book, totals, o } = core;
  if (isSelf(core, answer.hostId) || !book.shouldReplicate(answer.hostId, o.random))
    return { output: answer.output, source: answer.hostId };
  totals.replicatedBatches++;
  let second: RemoteAnswer | null = null;
  const entry = await acquireHost(core, model.sha256, tried, 0);
  if (entry) {
    tried.add(entry.peerId);
    second = await ask(entry, model, input, rows, supply);
  }
  if (second) {
    if (replicasAgree(answer, second, model.cols).ok) {
      book.recordValid(answer.hostId);
      if (!isSelf(core, second.hostId)) book.recordValid(second.hostId);
      return { output: answer.output, source: answer.hostId };
    }
    totals.disagreements++;
  }
  // The requester decides.
  const reference = await model.runLocal(input, rows);
  totals.arbitrationRows += rows;
  totals.localRows += rows;
  let credited = "local";
  for (const j of adjudicate(second ? [answer, second] : [answer], reference, o.local.provider, model.cols)) {
    if (j.honest) {
      if (!isSelf(core, j.hostId)) book.recordValid(j.hostId);
      if (credited === "local") credited = j.hostId;
    } else {
      core.registry.get(j.hostId)?.stats.failed("mismatch");
      ledger.punish(
        j.hostId,
        `outputs differ from the requester's on ${model.label} (${j.comparison.badRows} rows)`,
        rows,
      );
    }
  }
  return { output: reference, source: credited };
}
