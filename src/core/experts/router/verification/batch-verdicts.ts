import type { XpBatchVerdictKind } from "../../../protocol/experts.ts";
import type { RouterCore } from "../core.ts";
import type { RemoteAnswer } from "./replication.ts";

/**
 * Tells a host what the check of its answer concluded (a `batch-verdict`): "accepted" when its rows are kept
 * (canaries right, and a replica or the requester's own run agreed when one was made), "rejected" when they
 * are discarded. It is what the host's unit log shows, nothing more: the router's trust in the host lives in
 * its own book, and a revision after a later catch (row-ledger.ts) sends no second verdict. This tab's own
 * host is told like any other. Never awaited: a host that left just misses it.
 */
export function tellVerdict(core: RouterCore, answer: RemoteAnswer, verdict: XpBatchVerdictKind): void {
  if (answer.callId === undefined) return;
  core.o.link
    .send(answer.hostId, { kind: "batch-verdict", id: answer.callId, verdict })
    .catch(() => undefined);
}
