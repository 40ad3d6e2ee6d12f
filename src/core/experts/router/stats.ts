import { expertsOf, type RouterCore } from "./core.ts";
import type { RouterStatsSnapshot } from "./types.ts";

/** ExpertRouter.stats(): volunteers, hosts (with their share of accepted rows), experts, totals. */
export function routerStats(core: RouterCore): RouterStatsSnapshot {
  const { o, book, calls, placement, registry, rowsByHost, perExpert } = core;
  const now = o.nowMs();
  let accepted = 0;
  for (const n of rowsByHost.values()) accepted += n;
  return {
    localProvider: o.local.provider,
    volunteers: [...placement.volunteers],
    candidates: placement.candidates,
    hosts: registry.all().map((h) => {
      const rep = book.get(h.peerId);
      return {
        ...h.stats.snapshot(),
        lateResults: calls.late.get(h.peerId) ?? 0,
        peerId: h.peerId,
        provider: h.provider,
        ready: expertsOf(core, h.ready),
        placed: [...(placement.placement.get(h.peerId) ?? [])],
        connected: h.connected,
        paused: h.paused,
        suspended: h.suspendedUntilMs > now,
        banned: h.banned,
        trusted: rep.consecutiveValid >= book.policy.trustAfter,
        consecutiveValid: rep.consecutiveValid,
        totalValid: rep.totalValid,
        inFlight: h.inFlight,
        share: accepted === 0 ? 0 : (rowsByHost.get(h.peerId) ?? 0) / accepted,
      };
    }),
    experts: core.shas.map((sha, e) => ({
      expert: e,
      sha256: sha,
      placedOn: [...placement.placement].filter(([, es]) => es.includes(e)).map(([id]) => id),
      readyOn: registry.hostsFor(sha).map((h) => h.peerId),
      rowsRouted: perExpert[e]!.routed,
      rowsChosen: perExpert[e]!.chosen,
      rowsLocal: perExpert[e]!.local,
    })),
    totals: { ...core.totals, lateResults: [...calls.late.values()].reduce((a, b) => a + b, 0) },
    inFlight: calls.inFlight(),
    revisableJobs: o.keepFinishedJobs,
  };
}
