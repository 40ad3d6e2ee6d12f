import { MAX_BLOB_BYTES } from "../../protocol/peer.ts";
import type { ExpertLink } from "../link/expert-link.ts";
import { placeExperts, type Placement } from "./placement-plan.ts";
import type { ModelSource } from "../models/runner.ts";
import type { XpHostModel } from "../../protocol/experts.ts";

/**
 * The requester's side of placement: who volunteers, which experts each should host (placement-plan.ts), and
 * the host-requests that tell them. A host-request is declarative (the full set for that volunteer), so
 * only volunteers whose set changed are told again; one that drops out is told to release everything if
 * its link is still open. Models given as bytes are sent once per volunteer as blobs before the request;
 * requests to one volunteer go out in order.
 *
 * Only volunteers known to run an expert host are placement candidates: a peer becomes one when it sends a
 * `hosting` message, either unprompted (ExpertHost.announce) or in answer to a probe (an empty host-request,
 * sent once to every offered peer not heard from yet; an ExpertHost answers it, a peer without one, e.g. a
 * Node volunteer that only solves, never does). So a job never waits on a peer that cannot host: at most
 * `probeGraceMs` for its probe's answer (pendingProbes).
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
  /** The set last requested from each volunteer, as "e1,e2,...|sha,sha". */
  readonly #requested = new Map<string, string>();
  /** The id of the last host-request sent to each volunteer, and of the last one it answered. */
  readonly #lastSent = new Map<string, string>();
  readonly #lastAnswered = new Map<string, string>();
  readonly #blobsSent = new Map<string, Set<string>>();
  readonly #sending = new Map<string, Promise<void>>();
  readonly #extras = new Map<string, { source: ModelSource; refs: number }>();
  #seq = 0;

  constructor(
    private readonly link: ExpertLink,
    private readonly experts: readonly ModelSource[],
    private readonly replicas: number,
    /** Banned peers are never given experts. */
    private readonly isBanned: (peerId: string) => boolean,
    private readonly nowMs: () => number,
    private readonly probeGraceMs = 3_000,
  ) {}

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
    if (requestId !== null) this.#lastAnswered.set(peerId, requestId);
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
    return this.candidates.filter(
      (id) => this.#lastSent.has(id) && this.#lastSent.get(id) !== this.#lastAnswered.get(id),
    );
  }

  /** The peer's link closed: it holds nothing any more. */
  closed(peerId: string): void {
    this.#requested.delete(peerId);
    this.#blobsSent.delete(peerId);
    this.#heard.delete(peerId);
    this.#probedAtMs.delete(peerId);
    this.#lastSent.delete(peerId);
    this.#lastAnswered.delete(peerId);
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

  /** Recomputes the placement (after a ban, or a change of volunteers) and sends what changed. */
  update(): void {
    const eligible = this.candidates;
    const next = placeExperts(this.experts.length, eligible, this.#placement, { replicas: this.replicas });
    for (const id of new Set([...this.#placement.keys(), ...next.keys(), ...this.#requested.keys()])) {
      const want = next.get(id) ?? [];
      // An extra that is one of this peer's experts already (an expert's file uploaded as a generic model)
      // is not asked twice.
      const placed = new Set(want.map((e) => shaOf(this.experts[e]!)));
      const extras = eligible.includes(id) ? this.#extrasFor(id).filter(([sha]) => !placed.has(sha)) : [];
      const key = `${want.join(",")}|${extras.map(([sha]) => sha).join(",")}`;
      const empty = want.length === 0 && extras.length === 0;
      if (this.#requested.get(id) === key || (empty && !this.#requested.has(id))) continue;
      if (empty && !this.link.connectedPeerIds().includes(id)) {
        this.#requested.delete(id);
        continue;
      }
      this.#send(id, key, [...want.map((e) => this.experts[e]!), ...extras.map(([, source]) => source)]);
    }
    this.#placement = next;
  }

  /** Asks every volunteer to release our models (the router is closing). */
  releaseAll(): void {
    for (const id of [...this.#requested.keys()]) this.#send(id, null, []);
  }

  #extrasFor(peerId: string): [string, ModelSource][] {
    return [...this.#extras]
      .filter(
        ([, x]) =>
          x.source.kind !== "bytes" || x.source.bytes.length <= MAX_BLOB_BYTES || peerId === this.link.selfId,
      )
      .map(([sha, x]): [string, ModelSource] => [sha, x.source])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Probes the offered peers not heard from (at most once per probeGraceMs each). */
  #probe(): void {
    const now = this.nowMs();
    for (const id of this.#volunteers) {
      if (this.#heard.has(id) || this.#requested.has(id)) continue;
      const at = this.#probedAtMs.get(id);
      if (at !== undefined && now - at < this.probeGraceMs) continue;
      this.#probedAtMs.set(id, now);
      const requestId = `p${++this.#seq}`;
      this.link.send(id, { kind: "host-request", requestId, models: [] }).catch(() => undefined);
    }
  }

  /** Sends the declarative set (`key` identifies it; null: release everything). */
  #send(peerId: string, key: string | null, sources: readonly ModelSource[]): void {
    if (key === null || sources.length === 0) this.#requested.delete(peerId);
    else this.#requested.set(peerId, key);
    const models: XpHostModel[] = sources.map((source) => {
      if (source.kind === "manifest") {
        return { source: "manifest", sha256: source.entry.sha256, file: source.entry.file };
      }
      return {
        source: "blob",
        sha256: source.sha256,
        bytes: source.bytes.length,
        label: source.label.slice(0, 128) || "model",
      };
    });
    const sent = this.#blobsSent.get(peerId) ?? new Set<string>();
    this.#blobsSent.set(peerId, sent);
    // A model no longer asked of this peer is unloaded there (unless another requester holds it), and its
    // bytes are not kept: if it is asked again, the bytes must go again.
    const asked = new Set(models.map((m) => m.sha256));
    for (const sha of [...sent]) if (!asked.has(sha)) sent.delete(sha);
    const uploads = sources.filter(
      (s): s is Extract<ModelSource, { kind: "bytes" }> => s.kind === "bytes" && !sent.has(s.sha256),
    );
    for (const s of uploads) sent.add(s.sha256);
    const requestId = `h${++this.#seq}`;
    this.#lastSent.set(peerId, requestId);
    // In order per peer, blobs included: a later (smaller) set must not overtake an earlier one still
    // uploading its blobs, and bytes sent again for a model released in between must arrive after the
    // release (a host keeps bytes only until it loads them).
    const previous = this.#sending.get(peerId) ?? Promise.resolve();
    const sending = previous
      .then(() =>
        Promise.all(
          uploads.map((s) => this.link.sendModelBytes(peerId, s.bytes).catch(() => sent.delete(s.sha256))),
        ),
      )
      .then(() => this.link.send(peerId, { kind: "host-request", requestId, models }))
      .catch(() => undefined); // unreachable: its peer-close (or the next placement change) handles it
    this.#sending.set(peerId, sending);
    void sending.then(() => {
      if (this.#sending.get(peerId) === sending) this.#sending.delete(peerId);
    });
  }
}

function shaOf(source: ModelSource): string {
  return source.kind === "manifest" ? source.entry.sha256 : source.sha256;
}
