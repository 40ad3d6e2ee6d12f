import { HeldTransport } from "./held-transport.ts";
import type { MeshPeerInfo } from "./mesh-types.ts";
import type { LinkTransport } from "./transport.ts";

/**
 * Who gets a link. Only peers the directory announced (it checked their key and holds their session), at
 * most `maxLinks` at once, and not a peer recently closed for flooding. An incoming connection from an id
 * the directory has not announced yet is held for a short grace period, since the dialer's `peer-joined`
 * may reach us after its offer; it is admitted when the directory catches up, refused when the grace ends.
 */
export interface AdmissionOptions {
  maxLinks: number;
  unknownPeerGraceMs: number;
  /** Unannounced connections held at once; more are refused at once (each holds a WebRTC connection). */
  maxHeldUnknown: number;
  /** What a held connection may buffer before it is admitted (its hello is well under 1 KiB). */
  heldBufferBytes: number;
  floodPenaltyMs: number;
  nowMs: () => number;
}

export type AdmissionRefusal = "unknown_peer" | "link_cap" | "flooder";

export interface AdmissionHost {
  /** Links of the mesh right now (any state). */
  readonly linkCount: number;
  hasLink(peerId: string): boolean;
  isKnown(peerId: string): boolean;
  admit(transport: LinkTransport): void;
  refused(peerId: string, code: AdmissionRefusal, detail: string): void;
}

/** The order to dial peers in when there are more than slots: longest in the directory first (stable). */
export function defaultPeerPreference(a: MeshPeerInfo, b: MeshPeerInfo): number {
  const aJoined = a.joinedAtMs ?? Number.MAX_SAFE_INTEGER;
  const bJoined = b.joinedAtMs ?? Number.MAX_SAFE_INTEGER;
  return aJoined - bJoined || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0);
}

export class LinkAdmission {
  private readonly held = new Map<
    string,
    { transport: HeldTransport; timer: ReturnType<typeof setTimeout> }
  >();
  private readonly penalties = new Map<string, number>();

  constructor(
    private readonly options: Readonly<AdmissionOptions>,
    private readonly host: AdmissionHost,
  ) {}

  get heldCount(): number {
    return this.held.size;
  }

  /** Free link slots (held connections take one each). */
  get freeSlots(): number {
    return this.options.maxLinks - this.host.linkCount - this.held.size;
  }

  isPenalized(peerId: string): boolean {
    const until = this.penalties.get(peerId);
    if (until === undefined) return false;
    if (this.options.nowMs() < until) return true;
    this.penalties.delete(peerId);
    return false;
  }

  penalize(peerId: string): void {
    this.penalties.set(peerId, this.options.nowMs() + this.options.floodPenaltyMs);
    // Bounded: ids are cheap to make; the oldest penalties go first.
    if (this.penalties.size > 4096) this.penalties.delete(this.penalties.keys().next().value!);
  }

  /** An incoming connection (id already checked to be well-formed and not ours). */
  offer(transport: LinkTransport): void {
    const peerId = transport.remotePeerId;
    if (this.isPenalized(peerId)) return this.refuse(transport, "flooder", "closed for flooding recently");
    // A second connection from a linked peer replaces the first (a reload): it needs no new slot.
    const replacing = this.host.hasLink(peerId) || this.held.has(peerId);
    if (!replacing && this.freeSlots <= 0)
      return this.refuse(transport, "link_cap", `already ${this.options.maxLinks} links`);
    if (this.host.isKnown(peerId)) {
      this.dropHeld(peerId);
      this.host.admit(transport);
      return;
    }
    if (!replacing && this.held.size >= this.options.maxHeldUnknown)
      return this.refuse(transport, "unknown_peer", "not in the directory (too many held)");
    this.dropHeld(peerId);
    const heldTransport = new HeldTransport(transport, this.options.heldBufferBytes);
    const timer = setTimeout(() => {
      if (this.held.get(peerId)?.transport !== heldTransport) return;
      this.held.delete(peerId);
      this.refuse(
        heldTransport,
        "unknown_peer",
        `not in the directory after ${this.options.unknownPeerGraceMs} ms`,
      );
    }, this.options.unknownPeerGraceMs);
    this.held.set(peerId, { transport: heldTransport, timer });
  }

  /** The directory changed: admit held connections from peers it now announces. */
  directoryChanged(): void {
    for (const [peerId, entry] of [...this.held]) {
      if (!this.host.isKnown(peerId)) continue;
      this.held.delete(peerId);
      clearTimeout(entry.timer);
      if (entry.transport.isClosed) continue;
      this.host.admit(entry.transport);
      entry.transport.release();
    }
  }

  close(): void {
    for (const peerId of [...this.held.keys()]) this.dropHeld(peerId);
  }

  private dropHeld(peerId: string): void {
    const entry = this.held.get(peerId);
    if (!entry) return;
    this.held.delete(peerId);
    clearTimeout(entry.timer);
    entry.transport.close();
  }

  private refuse(transport: LinkTransport, code: AdmissionRefusal, detail: string): void {
    transport.close();
    this.host.refused(transport.remotePeerId, code, detail);
  }
}
