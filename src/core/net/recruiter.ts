import type { PeerFilter } from "../protocol/directory-query.ts";
import type { QueryResult } from "./directory-queries.ts";

/** What a recruiter needs: a directory that answers queries, and a mesh that dials the peers it is told to want. */
export interface RecruiterDeps {
  query(filter: PeerFilter, k: number): Promise<QueryResult>;
  want(peerId: string, holder: string): void;
  release(holder: string, peerId?: string): void;
}

export interface RecruiterOptions {
  /** The name the wanted links are held under (e.g. "jobs"). */
  readonly holder: string;
  readonly filter: PeerFilter;
  /** Peers to want at once. */
  readonly k: number;
  /** A new query at most this often while work lasts (new volunteers come, others leave). */
  readonly refreshMs: number;
  /** After queryNow(), the next query waits only until this long after the last one (default 1 s: the
   *  server allows 2 queries/s per session, shared with subscribes). */
  readonly soonMs?: number;
  readonly nowMs?: () => number;
}

/**
 * Finds peers to work with (the overlay, issue 12): while its owner has work it asks the directory for `k`
 * matching peers now and then and wants them (so an on-demand mesh dials them, and they admit the link);
 * when the work is done it releases them, and unused links close. Peers found earlier stay wanted until
 * then: a volunteer with a lease must keep its link even if the next query did not pick it again.
 */
export class Recruiter {
  private lastQueryAtMs = Number.NEGATIVE_INFINITY;
  private inFlight = false;
  /** Someone new may be online (queryNow): query again without waiting for refreshMs. */
  private soon = false;
  private readonly wanted = new Set<string>();
  private readonly nowMs: () => number;

  constructor(
    private readonly deps: RecruiterDeps,
    private readonly options: RecruiterOptions,
  ) {
    this.nowMs = options.nowMs ?? (() => Date.now());
  }

  /** Peers wanted now. */
  get peerIds(): readonly string[] {
    return [...this.wanted];
  }

  /** New peers may be online (a directory watch saw one join): the next update() while working queries
   *  again as soon as soonMs allows, instead of after refreshMs. */
  queryNow(): void {
    this.soon = true;
  }

  /** Call whenever the owner looks at its work: recruits while `working`, releases everyone when not. */
  update(working: boolean): void {
    if (!working) {
      if (this.wanted.size > 0) this.deps.release(this.options.holder);
      this.wanted.clear();
      this.lastQueryAtMs = Number.NEGATIVE_INFINITY;
      return;
    }
    const nowMs = this.nowMs();
    const gapMs = this.soon ? (this.options.soonMs ?? 1_000) : this.options.refreshMs;
    if (this.inFlight || nowMs - this.lastQueryAtMs < gapMs) return;
    this.lastQueryAtMs = nowMs;
    this.soon = false;
    this.inFlight = true;
    this.deps
      .query(this.options.filter, this.options.k)
      .then((result) => {
        // The work may have ended while the query was out: then nothing is wanted.
        if (this.lastQueryAtMs !== nowMs) return;
        for (const peer of result.peers) {
          this.wanted.add(peer.peerId);
          this.deps.want(peer.peerId, this.options.holder);
        }
      })
      // A refused or lost query is retried at the next refresh; the peers already wanted stay.
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = false;
      });
  }
}
