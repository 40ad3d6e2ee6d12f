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

  /** Call whenever the owner looks at its work: recruits while `working`, releases everyone when not. */
  update(working: boolean): void {
    if (!working) {
      if (this.wanted.size > 0) this.deps.release(this.options.holder);
      this.wanted.clear();
      this.lastQueryAtMs = Number.NEGATIVE_INFINITY;
      return;
    }
    const nowMs = this.nowMs();
    if (this.inFlight || nowMs - this.lastQueryAtMs < this.options.refreshMs) return;
    this.lastQueryAtMs = nowMs;
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
