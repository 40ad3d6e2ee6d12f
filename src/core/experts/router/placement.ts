import type { ExpertLink } from "../link/expert-link.ts";
import { placeExperts, type Placement } from "./placement-plan.ts";
import { sourceDigest } from "../models/model-bytes.ts";
import type { ModelSource } from "../models/runner.ts";
import { canSendTo, HostRequests } from "./host-requests.ts";

/**
 * The requester's side of placement: who volunteers, which experts each should host (placement-plan.ts), and
 * telling them (host-requests.ts). Only volunteers whose set changed are told again; one that drops out is
 * told to release everything if its link is still open.
 *
 * Only volunteers known to run an expert host are placement candidates: a peer becomes one when it sends a
 * `hosting` message, either unprompted (ExpertHost.announce) or in answer to a probe (an empty host-request,
 * sent once to every offered peer not heard from yet; an ExpertHost answers it, a peer without one, e.g. a
 * Node volunteer that only solves, never does). So a job never waits on a peer that cannot host: at most
 * `probeGraceMs` for its probe's answer (pendingProbes).
 *
 * Make before break: an expert that moves (a newcomer takes it from a host that has it loaded) stays on its
 * old host until every new host of it has loaded it (`isReady`; readyChanged re-checks), so a volunteer
 * joining while a job runs, or just before, never leaves the expert with fewer loaded hosts than before
 * (measured before this: on a first run with 2 volunteers the second one's arrival took 3 experts off
 * this tab's loaded host, and their batches waited ~1 s for the first volunteer to finish loading).
 *
 * Extras: models every candidate hosts on top of its experts while a generic job (runModel) runs. An extra
 * given as bytes too large for a blob (MAX_BLOB_BYTES) goes to this tab's own host only (the loopback has
 * no such limit).
 */
export class PlacementKeeper {
  #volunteers: string[] = [];
  #placement: Placement = new Map();
  /** Peers that sent a `hosting` message since their link opened. */
  readonly #heard = new Set<string>();
  /** When each unheard peer was last probed. */
  readonly #probedAtMs = new Map<string, number>();
  readonly #requests: HostRequests;
  readonly #extras = new Map<string, { source: ModelSource; refs: number }>();
  /** Experts each peer was last asked to host (placed, or kept while their new hosts load). */
  readonly #asked = new Map<string, readonly number[]>();
  /** Whether some expert is kept on a host it moved away from (readyChanged has work to do). */
  #lingering = false;

  constructor(
    private readonly link: ExpertLink,
    private readonly experts: readonly ModelSource[],
    private readonly replicas: number,
    /** Banned peers are never given experts. */
    private readonly isBanned: (peerId: string) => boolean,
    private readonly nowMs: () => number,
    private readonly probeGraceMs = 3_000,
    /** Whether the peer has expert e loaded (its `hosting` said so, and it is usable). */
    private readonly isReady: (peerId: string, e: number) => boolean = () => false,
  ) {
    this.#requests = new HostRequests(link);
  }

  /** The volunteers offered (setVolunteers) or adopted (announced), whether or not they host. */
  get volunteers(): readonly string[] {
    return this.#volunteers;
  }

  /** The volunteers experts are placed on: offered or adopted, heard from, not banned. */
  get candidates(): string[] {
    return this.#volunteers.filter((id) => this.#heard.has(id) && !this.isBanned(id));
  }

  get placement(): Placement {
    return this.#placement;
  }

  set(peerIds: readonly string[]): void {
    this.#volunteers = [...new Set(peerIds)];
    this.#probe();
    this.update();
  }

  add(peerId: string): void {
    if (this.#volunteers.includes(peerId)) return;
    this.#volunteers.push(peerId);
    this.#probe();
    this.update();
  }

  /** The peer sent a `hosting` message (answering `requestId`, or unprompted when null). */
  heard(peerId: string, requestId: string | null): void {
    if (requestId !== null) this.#requests.answered(peerId, requestId);
    if (this.#heard.has(peerId)) return;
    this.#heard.add(peerId);
    this.#probedAtMs.delete(peerId);
    if (this.#volunteers.includes(peerId)) this.update();
  }

  /** Offered peers probed less than probeGraceMs ago that have not answered yet. */
  pendingProbes(): string[] {
    const now = this.nowMs();
    return this.#volunteers.filter((id) => {
      const at = this.#probedAtMs.get(id);
      return !this.#heard.has(id) && at !== undefined && now - at < this.probeGraceMs;
    });
  }

  /** Candidates that have not answered the last host-request sent to them (still loading). */
  unsettled(): string[] {
    return this.candidates.filter((id) => this.#requests.unsettled(id));
  }

  /** The peer's link closed: it holds nothing any more. */
  closed(peerId: string): void {
    this.#requests.closed(peerId);
    this.#asked.delete(peerId);
    this.#heard.delete(peerId);
    this.#probedAtMs.delete(peerId);
    if (!this.#volunteers.includes(peerId)) return;
    this.#volunteers = this.#volunteers.filter((id) => id !== peerId);
    this.update();
  }

  /** Every candidate hosts `source` too, until removeExtra (counted: two jobs on one model share it). */
  addExtra(sha256: string, source: ModelSource): void {
    const held = this.#extras.get(sha256);
    if (held) held.refs++;
    else this.#extras.set(sha256, { source, refs: 1 });
    this.update();
  }

  removeExtra(sha256: string): void {
    const held = this.#extras.get(sha256);
    if (!held) return;
    if (--held.refs > 0) return;
    this.#extras.delete(sha256);
    this.update();
  }

  /** A host announced what it has loaded: an expert kept on its old host may be released now. */
  readyChanged(): void {
    if (this.#lingering) this.update();
  }

  /** Recomputes the placement (after a ban, or a change of volunteers) and sends what changed. */
  update(): void {
    const eligible = this.candidates;
    const next = placeExperts(this.experts.length, eligible, this.#placement, { replicas: this.replicas });
    const kept = this.#kept(next, eligible);
    this.#lingering = kept.size > 0;
    for (const id of new Set([...this.#placement.keys(), ...next.keys(), ...this.#requests.requestedPeers])) {
      const want = [...(next.get(id) ?? []), ...(kept.get(id) ?? [])].sort((a, b) => a - b);
      if (want.length > 0) this.#asked.set(id, want);
      else this.#asked.delete(id);
      // An extra that is one of this peer's experts already (an expert's file uploaded as a generic model)
      // is not asked twice.
      const placed = new Set(want.map((e) => sourceDigest(this.experts[e]!)));
      const extras = eligible.includes(id) ? this.#extrasFor(id).filter(([sha]) => !placed.has(sha)) : [];
      const key = `${want.join(",")}|${extras.map(([sha]) => sha).join(",")}`;
      const empty = want.length === 0 && extras.length === 0;
      const requested = this.#requests.requestedOf(id);
      if (requested === key || (empty && requested === undefined)) continue;
      if (empty && !this.link.connectedPeerIds().includes(id)) {
        this.#requests.forget(id);
        continue;
      }
      this.#requests.send(id, key, [
        ...want.map((e) => this.experts[e]!),
        ...extras.map(([, source]) => source),
      ]);
    }
    this.#placement = next;
  }

  /** Per eligible peer, experts it was asked for and has loaded that `next` moves elsewhere, while one of
   *  their new hosts has not loaded them yet (make before break). */
  #kept(next: Placement, eligible: readonly string[]): Map<string, number[]> {
    const kept = new Map<string, number[]>();
    for (const id of eligible) {
      const placed = next.get(id) ?? [];
      const keep = (this.#asked.get(id) ?? []).filter(
        (e) =>
          !placed.includes(e) &&
          this.isReady(id, e) &&
          [...next].some(([other, es]) => other !== id && es.includes(e) && !this.isReady(other, e)),
      );
      if (keep.length > 0) kept.set(id, keep);
    }
    return kept;
  }

  /** Asks every volunteer to release our models (the router is closing). */
  releaseAll(): void {
    for (const id of this.#requests.requestedPeers) this.#requests.send(id, null, []);
  }

  #extrasFor(peerId: string): [string, ModelSource][] {
    return [...this.#extras]
      .filter(([, x]) => canSendTo(x.source, peerId, this.link.selfId))
      .map(([sha, x]): [string, ModelSource] => [sha, x.source])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Probes the offered peers not heard from (at most once per probeGraceMs each). */
  #probe(): void {
    const now = this.nowMs();
    for (const id of this.#volunteers) {
      if (this.#heard.has(id) || this.#requests.requestedOf(id) !== undefined) continue;
      const at = this.#probedAtMs.get(id);
      if (at !== undefined && now - at < this.probeGraceMs) continue;
      this.#probedAtMs.set(id, now);
      this.#requests.probe(id);
    }
  }
}
