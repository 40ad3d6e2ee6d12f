/**
 * Which volunteers host which experts. Every expert goes to `replicas` distinct volunteers (2 by default, so
 * one host leaving never leaves an expert without a remote copy; fewer only when there are fewer volunteers),
 * hosts carry equal numbers of experts (loads differ by at most one), and a change of volunteers moves as
 * little as possible: assignments of volunteers that stay are kept, a leaver's experts go to the least
 * loaded others, a newcomer takes only what evenness needs from the most loaded. Loading an expert costs a
 * fetch and a session, so stability matters more than any finer balance.
 *
 * Deterministic: the same inputs give the same placement on every tab. Ties are broken by a hash of
 * (expert, volunteer), which spreads experts instead of piling the first ones on the first volunteer.
 */
export type Placement = ReadonlyMap<string, readonly number[]>;

export interface PlacementOptions {
  /** Distinct hosts per expert when enough volunteers exist. */
  readonly replicas?: number;
}

export const DEFAULT_REPLICAS = 2;

export function placeExperts(
  experts: number,
  volunteers: readonly string[],
  previous: Placement = new Map(),
  options: PlacementOptions = {},
): Placement {
  if (!Number.isInteger(experts) || experts < 0)
    throw new RangeError(`experts must be a count, got ${experts}`);
  const ids = [...new Set(volunteers)].sort();
  const out = new Map<string, Set<number>>(ids.map((id) => [id, new Set<number>()]));
  if (ids.length === 0 || experts === 0) return freeze(out);
  const replicas = Math.min(Math.max(1, Math.floor(options.replicas ?? DEFAULT_REPLICAS)), ids.length);
  const count = new Array<number>(experts).fill(0);

  // 1. Keep what volunteers that stay already host (surplus replicas dropped).
  for (const id of ids) {
    for (const e of previous.get(id) ?? []) {
      if (Number.isInteger(e) && e >= 0 && e < experts && count[e]! < replicas && !out.get(id)!.has(e)) {
        out.get(id)!.add(e);
        count[e]!++;
      }
    }
  }

  // 2. Fill missing replicas, scarcest experts first, each on the least loaded volunteer not hosting it.
  const order = [...count.keys()].sort((a, b) => count[a]! - count[b]! || a - b);
  for (const e of order) {
    while (count[e]! < replicas) {
      const candidates = ids.filter((id) => !out.get(id)!.has(e));
      const holders = ids.filter((id) => out.get(id)!.has(e));
      // Least loaded first; then the one sharing the fewest experts with e's current hosts, so replicas
      // are spread (when a host leaves, its experts' other copies are on many hosts, not on one twin).
      const best = pickBy(candidates, (id) => [out.get(id)!.size, overlap(out, id, holders), tieHash(e, id)]);
      if (best === undefined) break;
      out.get(best)!.add(e);
      count[e]!++;
    }
  }

  // 3. Even out: move one expert from the most to the least loaded volunteer while they differ by > 1.
  for (let guard = experts * replicas; guard > 0; guard--) {
    const most = pickBy(ids, (id) => [-out.get(id)!.size, tieHash(-1, id)])!;
    const least = pickBy(ids, (id) => [out.get(id)!.size, tieHash(-1, id)])!;
    if (out.get(most)!.size - out.get(least)!.size <= 1) break;
    const movable = [...out.get(most)!].filter((e) => !out.get(least)!.has(e));
    // Prefer an expert given to `most` in this call: moving it again costs no extra load anywhere.
    const kept = new Set(previous.get(most) ?? []);
    const e = pickBy(movable, (x) => [kept.has(x) ? 1 : 0, tieHash(x, least)]);
    if (e === undefined) break;
    out.get(most)!.delete(e);
    out.get(least)!.add(e);
  }
  return freeze(out);
}

/** Volunteers hosting `expert`, sorted. */
export function hostsOf(placement: Placement, expert: number): string[] {
  return [...placement]
    .filter(([, es]) => es.includes(expert))
    .map(([id]) => id)
    .sort();
}

/** Assignments in `after` that `before` did not have (each one is a model some volunteer must load). */
export function placementMoves(before: Placement, after: Placement): number {
  let moves = 0;
  for (const [id, es] of after) {
    const had = new Set(before.get(id) ?? []);
    for (const e of es) if (!had.has(e)) moves++;
  }
  return moves;
}

function overlap(out: Map<string, Set<number>>, id: string, holders: readonly string[]): number {
  let n = 0;
  for (const h of holders) for (const e of out.get(h)!) if (out.get(id)!.has(e)) n++;
  return n;
}

function freeze(map: Map<string, Set<number>>): Placement {
  return new Map([...map].map(([id, es]) => [id, [...es].sort((a, b) => a - b)]));
}

/** The item with the lexicographically smallest key. */
function pickBy<T>(items: readonly T[], key: (item: T) => number[]): T | undefined {
  let best: T | undefined;
  let bestKey: number[] | null = null;
  for (const item of items) {
    const k = key(item);
    if (bestKey === null || compareKeys(k, bestKey) < 0) {
      best = item;
      bestKey = k;
    }
  }
  return best;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** FNV-1a over "expert:volunteer": a stable pseudo-random tie-breaker. */
function tieHash(expert: number, id: string): number {
  let h = 0x811c9dc5;
  const s = `${expert}:${id}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
