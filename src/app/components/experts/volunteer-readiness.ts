import type { RouterHostSnapshot } from "../../../core/experts/router/index.ts";

/** Where the volunteers that may take a job's batches stand, as the Run button's note says it. */
export interface VolunteerReadiness {
  /** Loaded every expert placed on it and trusted: a job's batches go to it with spot checks only. */
  readonly ready: number;
  /** Placed experts still loading (or nothing placed on it yet). */
  readonly loading: number;
  /** Loaded, but still answering the qualification batches that make it trusted. */
  readonly checking: number;
  /** The note beside Run; null when there is nothing to say (no router yet). */
  readonly text: string | null;
}

/**
 * Counts the other tabs' hosts (this tab's own host is trusted and always warm) and says what starting a job
 * now means. A job started while volunteers are still loading or being checked gets done, but slower: the
 * batches wait for loading hosts, and an untrusted host's answers are checked in full (replicated), so the
 * first run is a fair comparison with the next one only once this note says every volunteer is ready.
 */
export function volunteerReadiness(
  hosts: readonly RouterHostSnapshot[] | null,
  selfId: string | null,
): VolunteerReadiness {
  if (hosts === null) return { ready: 0, loading: 0, checking: 0, text: null };
  let ready = 0;
  let loading = 0;
  let checking = 0;
  for (const h of hosts) {
    if (h.peerId === selfId || h.banned !== null || !h.connected || h.paused) continue;
    const loaded = h.placed.length > 0 && h.placed.every((e) => h.ready.includes(e));
    if (!loaded) loading++;
    else if (!h.trusted) checking++;
    else ready++;
  }
  const total = ready + loading + checking;
  if (total === 0)
    return { ready, loading, checking, text: "no volunteers yet: this tab computes the job itself" };
  if (ready === total) return { ready, loading, checking, text: `${plural(ready, "volunteer")} ready` };
  const parts = [
    loading > 0 ? `${loading} loading the experts` : null,
    checking > 0 ? `${checking} being checked` : null,
  ].filter((p) => p !== null);
  return {
    ready,
    loading,
    checking,
    text:
      `${ready} of ${plural(total, "volunteer")} ready (${parts.join(", ")}): ` +
      "a job started now runs, but slower, and checks more of their answers",
  };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
