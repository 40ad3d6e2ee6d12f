import { MAX_BLOB_BYTES } from "../../protocol/peer.ts";
import type { ExpertLink } from "../link/expert-link.ts";
import type { ModelSource } from "../models/runner.ts";
import type { XpHostModel } from "../../protocol/experts.ts";

/**
 * How the router tells volunteers what to host (placement.ts decides what): host-requests, each declarative
 * (the full set for that volunteer, identified by a key, so an unchanged set is not sent again). Models
 * given as bytes go once per volunteer as blobs before the request; requests to one volunteer go out in
 * order. Remembers the id of the last request sent to each volunteer and of the last one it answered, so
 * placement knows who is still loading. Probes (an empty host-request to a peer not heard from) go from here
 * too.
 */
export class HostRequests {
  /** The set last requested from each volunteer, as its key. */
  readonly #requested = new Map<string, string>();
  readonly #lastSent = new Map<string, string>();
  readonly #lastAnswered = new Map<string, string>();
  readonly #blobsSent = new Map<string, Set<string>>();
  readonly #sending = new Map<string, Promise<void>>();
  #seq = 0;

  constructor(private readonly link: ExpertLink) {}

  /** The key of the set last requested from the peer; undefined when nothing is. */
  requestedOf(peerId: string): string | undefined {
    return this.#requested.get(peerId);
  }

  /** Peers something is requested from. */
  get requestedPeers(): string[] {
    return [...this.#requested.keys()];
  }

  /** Nothing is requested from the peer any more, without telling it (its link is gone). */
  forget(peerId: string): void {
    this.#requested.delete(peerId);
  }

  /** The peer answered the host-request `requestId`. */
  answered(peerId: string, requestId: string): void {
    this.#lastAnswered.set(peerId, requestId);
  }

  /** Whether the peer has not answered the last host-request sent to it (it is still loading). */
  unsettled(peerId: string): boolean {
    return this.#lastSent.has(peerId) && this.#lastSent.get(peerId) !== this.#lastAnswered.get(peerId);
  }

  /** The peer's link closed: it holds nothing any more. */
  closed(peerId: string): void {
    this.#requested.delete(peerId);
    this.#blobsSent.delete(peerId);
    this.#lastSent.delete(peerId);
    this.#lastAnswered.delete(peerId);
  }

  /** An empty host-request: an expert host answers it with `hosting`, a peer without one never does. */
  probe(peerId: string): void {
    const requestId = `p${++this.#seq}`;
    this.link.send(peerId, { kind: "host-request", requestId, models: [] }).catch(() => undefined);
  }

  /** Sends the declarative set (`key` identifies it; null: release everything). */
  send(peerId: string, key: string | null, sources: readonly ModelSource[]): void {
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

/** Whether a model can go to the peer: bytes too large for a blob (MAX_BLOB_BYTES) go to this tab's own
 *  host only (the loopback has no such limit). */
export function canSendTo(source: ModelSource, peerId: string, selfId: string): boolean {
  return source.kind !== "bytes" || source.bytes.length <= MAX_BLOB_BYTES || peerId === selfId;
}
