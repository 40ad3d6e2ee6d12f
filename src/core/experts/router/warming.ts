import { sleep, type RouterCore } from "./core.ts";
import type { HostEntry } from "./dispatch/hosts.ts";

/**
 * Hosts still loading a model (placement asked them, they have not answered yet), and waiting for one of
 * them instead of computing here. On a first run every host is loading its experts when the job starts:
 * falling back at once would make the requester compute a large share itself (measured before this: 388 of
 * 1,000 expert rows on a first run with 2 volunteers) while the volunteers finish loading a moment later.
 * So a batch whose model has no ready host but a warming one waits for it, at most warmWaitMs, then falls
 * back as before. Hosts announce each model as it loads (host/hosted-models.ts), so the wait ends with the
 * first model ready, not the whole set.
 */

/** Connected, unbanned candidates that were asked to host `sha256` (placed there, or an extra every
 *  candidate hosts) and have not answered that request yet, `exclude` left out. */
export function warmingHosts(core: RouterCore, sha256: string, exclude: ReadonlySet<string>): string[] {
  const { placement, registry, shas } = core;
  const expert = shas.indexOf(sha256);
  return placement.unsettled().filter((id) => {
    if (exclude.has(id)) return false;
    const entry = registry.get(id);
    if (entry && (entry.banned !== null || !entry.connected || entry.ready.has(sha256))) return false;
    return expert < 0 ? core.wanted.has(sha256) : (placement.placement.get(id) ?? []).includes(expert);
  });
}

/**
 * A host's slot for the model as acquireHost gives it, except that while no host is usable but some are
 * warming, it waits (on the registry's changes) for one to be ready, at most `core.o.warmWaitMs` from the
 * first call; null when none became usable (the batch is then computed here).
 */
export async function acquireWarm(
  core: RouterCore,
  sha256: string,
  exclude: ReadonlySet<string>,
  priority: 0 | 1,
): Promise<HostEntry | null> {
  const { o, registry } = core;
  const started = o.nowMs();
  const deadline = started + o.warmWaitMs;
  for (;;) {
    if (core.closed) return null;
    const now = o.nowMs();
    const left = deadline - now;
    const usable = registry.hostsFor(sha256, exclude).length > 0;
    if (usable || left <= 0 || warmingHosts(core, sha256, exclude).length === 0) {
      if (now > started) {
        core.totals.warmWaitMs += now - started;
        core.totals.warmWaitEndAtMs = Math.max(core.totals.warmWaitEndAtMs, now);
      }
      return registry.acquire(sha256, exclude, priority);
    }
    await Promise.race([registry.nextChange(), sleep(Math.min(left, 250))]);
  }
}
