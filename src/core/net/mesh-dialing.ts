import { LinkDemand } from "./link-demand.ts";
import type { DialPolicy, MeshPeerInfo } from "./mesh-types.ts";
import type { PeerLink } from "./peer-link.ts";

/** What the dialing rules read about one current link. */
export interface DialedLink {
  readonly peerId: string;
  readonly dialer: boolean;
  readonly open: boolean;
}

/**
 * Whom the mesh dials and which links it gives up, apart from how links work. "all-known": the smaller id
 * of every known pair dials. "on-demand" (the overlay): whoever wants a link dials it; if both sides dial
 * at once, both keep the link the smaller id dialed; and the side that dialed closes the link once nobody
 * here wants it and it was unused for `unusedLinkMs` (the other side keeps it: it may still be useful there).
 */
export class MeshDialing {
  readonly demand = new LinkDemand();

  constructor(
    private readonly selfId: string,
    private readonly policy: DialPolicy,
    private readonly unusedLinkMs: number,
  ) {}

  mayDial(peerId: string): boolean {
    return this.policy === "on-demand" ? this.demand.isWanted(peerId) : this.selfId < peerId;
  }

  /** Known peers to dial now, best first (`skip`: linked, waiting for a redial, penalized). */
  candidates(
    known: Iterable<MeshPeerInfo>,
    skip: (peerId: string) => boolean,
    preference: (a: MeshPeerInfo, b: MeshPeerInfo) => number,
  ): MeshPeerInfo[] {
    return [...known].filter((peer) => this.mayDial(peer.peerId) && !skip(peer.peerId)).sort(preference);
  }

  /** An incoming link from `remoteId` while `existing` is current: refuse it (keep ours) or let it replace. */
  refuseIncoming(remoteId: string, existing: DialedLink | undefined): boolean {
    return (
      this.policy === "on-demand" &&
      existing !== undefined &&
      existing.dialer &&
      !existing.open &&
      this.selfId < remoteId
    );
  }

  /** Links this side dialed that it should close now (on demand only). */
  unused(links: Iterable<DialedLink>, nowMs: number): string[] {
    if (this.policy !== "on-demand") return [];
    const dialed = [...links].filter((link) => link.open && link.dialer).map((link) => link.peerId);
    return this.demand.idle(dialed, nowMs, this.unusedLinkMs);
  }

  /** Why `unused` closed a link. */
  get unusedReason(): string {
    return `unused for ${this.unusedLinkMs} ms and not wanted`;
  }
}

/** What the dialing policy needs to know of a link. */
export function dialedLink(link: PeerLink): DialedLink {
  return { peerId: link.peerId, dialer: link.transport.dialer, open: link.state === "open" };
}
