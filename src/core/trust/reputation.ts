/**
 * Reputation per volunteer identity, after BOINC's adaptive replication: a host is untrusted until it has
 * returned `trustAfter` consecutive valid results; a trusted host's results are replicated only with probability
 * 1/consecutiveValid, so the cost of checking it falls as it keeps being right; one invalid result resets
 * the count. Solves do not need replication (the requester certifies them with one SpMV), but their
 * verdicts still feed this record, and a volunteer whose results keep failing gets no more work.
 *
 * Records are plain immutable data, kept by the requester and persisted through the job repository.
 * Identities are peer ids derived from Ed25519 keys: a banned volunteer can make a new key, but then starts
 * untrusted again, which is exactly BOINC's position too.
 */
export interface ReputationRecord {
  readonly volunteerId: string;
  readonly consecutiveValid: number;
  readonly totalValid: number;
  readonly totalInvalid: number;
  readonly lastInvalidAtMs: number | null;
  /** The newest `recentWindow` verdicts, oldest first (true = valid). */
  readonly recent: readonly boolean[];
  /**
   * When the requester last proved this volunteer lied on purpose (an exact check that an honest
   * computation cannot fail, e.g. a distributed block whose own messages contradict each other): banned
   * at once, for banForMs. Absent in records stored before it existed (read as never).
   */
  readonly provenFaultAtMs?: number | null;
}

export interface ReputationPolicy {
  /** Consecutive valid results before a volunteer is trusted (BOINC: about 10). */
  readonly trustAfter: number;
  /** Verdicts remembered for the ban rule. */
  readonly recentWindow: number;
  /** Banned when at least this many of the recent verdicts are invalid ... */
  readonly banMinInvalid: number;
  /** ... and they are more than this fraction of the recent verdicts. */
  readonly banInvalidRatio: number;
  /** A ban lapses this long after the last invalid result (one more invalid result re-bans at once). */
  readonly banForMs: number;
}

export const DEFAULT_REPUTATION_POLICY: ReputationPolicy = {
  trustAfter: 10,
  recentWindow: 10,
  banMinInvalid: 3,
  banInvalidRatio: 0.5,
  banForMs: 24 * 60 * 60 * 1000,
};

export function freshReputation(volunteerId: string): ReputationRecord {
  return {
    volunteerId,
    consecutiveValid: 0,
    totalValid: 0,
    totalInvalid: 0,
    lastInvalidAtMs: null,
    recent: [],
  };
}

function pushRecent(recent: readonly boolean[], verdict: boolean, window: number): readonly boolean[] {
  const next = [...recent, verdict];
  return next.length > window ? next.slice(next.length - window) : next;
}

export function recordValid(
  rec: ReputationRecord,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): ReputationRecord {
  return {
    ...rec,
    consecutiveValid: rec.consecutiveValid + 1,
    totalValid: rec.totalValid + 1,
    recent: pushRecent(rec.recent, true, policy.recentWindow),
  };
}

export function recordInvalid(
  rec: ReputationRecord,
  nowMs: number,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): ReputationRecord {
  return {
    ...rec,
    consecutiveValid: 0,
    totalInvalid: rec.totalInvalid + 1,
    lastInvalidAtMs: nowMs,
    recent: pushRecent(rec.recent, false, policy.recentWindow),
  };
}

/** A deliberate lie, proven by an exact check: an invalid verdict that bans at once (isBanned). */
export function recordProvenFault(
  rec: ReputationRecord,
  nowMs: number,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): ReputationRecord {
  return { ...recordInvalid(rec, nowMs, policy), provenFaultAtMs: nowMs };
}

export function isTrusted(
  rec: ReputationRecord,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): boolean {
  return rec.consecutiveValid >= policy.trustAfter;
}

/** 1 while untrusted, else 1/consecutiveValid. */
export function replicationProbability(
  rec: ReputationRecord,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): number {
  return isTrusted(rec, policy) ? 1 / rec.consecutiveValid : 1;
}

/** Whether to replicate (or otherwise double-check) this volunteer's next uncertifiable result. */
export function shouldReplicate(
  rec: ReputationRecord,
  random: () => number,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): boolean {
  if (!isTrusted(rec, policy)) return true;
  return random() < 1 / rec.consecutiveValid;
}

/** No more work for this volunteer: its recent results are mostly invalid, or it was proven to lie on
 *  purpose (recordProvenFault), and the ban has not lapsed. */
export function isBanned(
  rec: ReputationRecord,
  nowMs: number,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): boolean {
  const proven = rec.provenFaultAtMs ?? null;
  if (proven !== null && nowMs - proven < policy.banForMs) return true;
  if (rec.lastInvalidAtMs === null || nowMs - rec.lastInvalidAtMs >= policy.banForMs) return false;
  const invalid = rec.recent.reduce((n, ok) => (ok ? n : n + 1), 0);
  return invalid >= policy.banMinInvalid && invalid / rec.recent.length > policy.banInvalidRatio;
}

/** The requester's reputation records in memory, with the ids changed since the last drain (to persist). */
export class ReputationBook {
  readonly policy: ReputationPolicy;
  readonly #records = new Map<string, ReputationRecord>();
  readonly #changed = new Set<string>();

  constructor(
    records: Iterable<ReputationRecord> = [],
    policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
  ) {
    this.policy = policy;
    for (const r of records) this.#records.set(r.volunteerId, r);
  }

  get(volunteerId: string): ReputationRecord {
    return this.#records.get(volunteerId) ?? freshReputation(volunteerId);
  }

  recordValid(volunteerId: string): ReputationRecord {
    return this.#put(recordValid(this.get(volunteerId), this.policy));
  }

  recordInvalid(volunteerId: string, nowMs: number): ReputationRecord {
    return this.#put(recordInvalid(this.get(volunteerId), nowMs, this.policy));
  }

  recordProvenFault(volunteerId: string, nowMs: number): ReputationRecord {
    return this.#put(recordProvenFault(this.get(volunteerId), nowMs, this.policy));
  }

  isTrusted(volunteerId: string): boolean {
    return isTrusted(this.get(volunteerId), this.policy);
  }

  isBanned(volunteerId: string, nowMs: number): boolean {
    return isBanned(this.get(volunteerId), nowMs, this.policy);
  }

  shouldReplicate(volunteerId: string, random: () => number): boolean {
    return shouldReplicate(this.get(volunteerId), random, this.policy);
  }

  all(): ReputationRecord[] {
    return [...this.#records.values()];
  }

  /** Records changed since the previous call. */
  drainChanged(): ReputationRecord[] {
    const out = [...this.#changed].map((id) => this.get(id));
    this.#changed.clear();
    return out;
  }

  #put(rec: ReputationRecord): ReputationRecord {
    this.#records.set(rec.volunteerId, rec);
    this.#changed.add(rec.volunteerId);
    return rec;
  }
}
