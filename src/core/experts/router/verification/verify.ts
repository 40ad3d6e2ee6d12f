import type { CanarySupply } from "./canaries.ts";
import { isSelf, type RouterCore } from "../core.ts";
import type { HostEntry } from "../dispatch/hosts.ts";
import type { JobModel } from "../jobs/job.ts";
import type { RowLedger } from "./row-ledger.ts";
import { adjudicate, replicasAgree, type RemoteAnswer } from "./replication.ts";
import { checkProbability, mayCheck } from "./spot-check.ts";
import { tellVerdict } from "./batch-verdicts.ts";

/** Sends a batch to a host (dispatch/dispatch.ts): its verified-by-canaries answer, or null. */
export type AskHost = (
  entry: HostEntry,
  model: JobModel,
  input: Float32Array,
  rows: number,
  supply: CanarySupply,
) => Promise<RemoteAnswer | null>;

/** The accepted output of a batch, who computed it, and who vouched for it (a trusted checker that agreed;
 *  null when nobody but its canaries did): both lose it if either is later caught. */
export interface Verdict {
  readonly output: Float32Array;
  readonly source: string;
  readonly checkedBy: string | null;
}

/**
 * Checks one remote answer in full when spot-check.ts says so (always while its host is untrusted; at least
 * `spotCheckFloor` of the time once trusted). The checker is a TRUSTED host other than the answer's (or this
 * tab's own host), chosen uniformly at random and independently of the first (never by speed), or, when none
 * is free, the requester itself: two untrusted hosts never validate each other. When the checker disagrees,
 * or fails, the requester's own computation decides and every host that differs from it is punished. This
 * tab's own host is not checked (its answer is the requester's own computation).
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
): Promise<Verdict> {
  const { book, totals, o } = core;
  const accepted = { output: answer.output, source: answer.hostId, checkedBy: null };
  totals.remoteBatches++;
  if (
    isSelf(core, answer.hostId) ||
    !(o.random() < checkProbability(book, answer.hostId, o.spotCheckFloor))
  ) {
    tellVerdict(core, answer, "accepted");
    return accepted;
  }
  totals.replicatedBatches++;
  let second: RemoteAnswer | null = null;
  const entry = await acquireChecker(core, model.sha256, tried);
  if (entry) {
    tried.add(entry.peerId);
    second = await ask(entry, model, input, rows, supply);
  }
  if (second) {
    if (replicasAgree(answer, second, model.cols, model.tolerance).ok) {
      book.recordValid(answer.hostId);
      if (!isSelf(core, second.hostId)) book.recordValid(second.hostId);
      tellVerdict(core, answer, "accepted");
      tellVerdict(core, second, "accepted");
      return { ...accepted, checkedBy: isSelf(core, second.hostId) ? null : second.hostId };
    }
    totals.disagreements++;
  }
  // The requester decides.
  const reference = await model.runLocal(input, rows);
  totals.arbitrationRows += rows;
  totals.localRows += rows;
  let credited = "local";
  const answers = second ? [answer, second] : [answer];
  for (const [i, j] of adjudicate(answers, reference, model.cols, model.tolerance).entries()) {
    tellVerdict(core, answers[i]!, j.honest ? "accepted" : "rejected");
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
  return { output: reference, source: credited, checkedBy: null };
}

/** A trusted host other than those tried (this tab's own host counts as trusted), uniformly at random among
 *  those usable for the model, its slot taken; null when there is none (the requester checks itself). */
function acquireChecker(
  core: RouterCore,
  sha256: string,
  tried: ReadonlySet<string>,
): Promise<HostEntry | null> {
  if (core.closed) return Promise.resolve(null);
  const exclude = new Set(tried);
  for (const h of core.registry.all()) {
    if (!isSelf(core, h.peerId) && !mayCheck(core.book, h.peerId)) exclude.add(h.peerId);
  }
  return core.registry.acquire(sha256, exclude, 0, true);
}
