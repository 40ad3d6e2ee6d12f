import { sleep, type RouterCore } from "../core.ts";
import type { TestFirstBatchTo } from "../types.ts";
import { ExpertError } from "../../models/runner.ts";

// TEST ONLY: ClassifyOptions.testFirstBatchTo (types.ts), a classify job's first batches forced onto named
// hosts, for tests about what one host does with a batch. Kept out of classify.ts: the job's own logic
// never depends on it.

/**
 * TEST ONLY (ClassifyOptions.testFirstBatchTo): waits until every forced host serves an expert with enough
 * rows in this job for a remote batch (more than the canaries taken from them); for each host, in the order
 * given, that expert: the one with the most rows, among those not given to an earlier host when it can, so
 * each gets a full batch of its own. Throws ExpertError("timeout") after `waitMs`, naming a host that serves
 * none and what the router knows of it.
 */
export async function forcedExperts(
  core: RouterCore,
  { peerIds, waitMs }: TestFirstBatchTo,
  rowsOf: readonly Int32Array[],
): Promise<{ peerId: string; e: number }[]> {
  const { o, registry, shas } = core;
  const deadline = o.nowMs() + waitMs;
  for (;;) {
    const now = o.nowMs();
    const servable = (peerId: string): number[] => {
      const entry = registry.get(peerId);
      return shas.flatMap((sha, e) =>
        entry && registry.usable(entry, sha, now) && rowsOf[e]!.length > 2 * o.canariesPerRequest ? [e] : [],
      );
    };
    const missing = peerIds.find((id) => servable(id).length === 0);
    if (missing === undefined) {
      const taken = new Set<number>();
      return peerIds.map((peerId) => {
        const byRows = servable(peerId).sort((a, b) => rowsOf[b]!.length - rowsOf[a]!.length || a - b);
        const e = byRows.find((x) => !taken.has(x)) ?? byRows[0]!;
        taken.add(e);
        return { peerId, e };
      });
    }
    const left = deadline - now;
    if (left <= 0) {
      throw new ExpertError(
        "timeout",
        `test-only firstBatchTo: ${missing} serves no expert of this job after ${waitMs} ms (${hostState(core, missing, now)})`,
      );
    }
    await Promise.race([registry.nextChange(), sleep(Math.min(left, 250))]);
  }
}

/** What the router knows of a host, for the error above. */
function hostState(core: RouterCore, peerId: string, now: number): string {
  const entry = core.registry.get(peerId);
  if (!entry) return "never announced hosting";
  const placed = core.placement.placement.get(peerId) ?? [];
  const ready = core.shas.flatMap((sha, e) => (entry.ready.has(sha) ? [e] : []));
  return [
    ...(entry.banned !== null ? [`banned (${entry.banned})`] : []),
    ...(entry.connected ? [] : ["disconnected"]),
    ...(entry.paused ? ["paused"] : []),
    ...(entry.suspendedUntilMs > now ? ["suspended"] : []),
    `placed [${placed.join(", ")}]`,
    `ready [${ready.join(", ")}]`,
  ].join(", ");
}

/** Moves one batch of each forced host's expert to the front of `order` (in the order given); the host
 *  each of them goes to. */
export function forceFirstBatches<B extends { readonly e: number }>(
  order: B[],
  forced: readonly { readonly peerId: string; readonly e: number }[],
): Map<B, string> {
  const firstTo = new Map<B, string>();
  for (const { peerId, e } of forced) {
    const at = order.findIndex((b) => b.e === e && !firstTo.has(b));
    if (at < 0) {
      throw new ExpertError(
        "unavailable",
        `test-only firstBatchTo: expert ${e} has no remote batch left in this job for ${peerId}`,
      );
    }
    const batch = order.splice(at, 1)[0]!;
    firstTo.set(batch, peerId);
  }
  order.unshift(...firstTo.keys());
  return firstTo;
}
