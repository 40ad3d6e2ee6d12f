import type { HaloPart } from "../../distributed/index.ts";
import type { JobLink } from "../job-link.ts";
import type { HaloDelivery } from "./halo-inbox.ts";

/** Where one exchange's halo parts go: straight to linked neighbours, the rest through the requester. */
export interface HaloRoute {
  readonly direct: readonly HaloDelivery[];
  readonly relayed: readonly HaloPart[];
}

/**
 * One held block's links to the holders of its neighbouring blocks (issue 12.4): the overlay links two
 * volunteers only when someone asks, so at each peer-routed epoch the block asks for links to the
 * neighbours the requester named (JobLink.want: dialed within the link cap) and lets go of the others, and
 * of all when the block ends. A part goes straight to a neighbour only while their link is open; when it is
 * not (still dialing, the cap reached on either side, the dial failed, the neighbour gone) that pair's part
 * goes to the requester, whose coordinator relays it (distributed/halo-relay.ts): per pair and per
 * exchange, so nothing waits for a link and nothing is lost. A direct send that fails, or whose link
 * closes before the exchange completes, is relayed too (the receiver drops a copy it already has).
 */
export class HaloLinks {
  readonly #link: Pick<JobLink, "want" | "release" | "isLinked">;
  readonly #holder: string;
  #wanted = new Set<string>();
  /** The parts of the latest exchange sent straight to each peer (what a closing link may have lost). */
  readonly #lastSent = new Map<string, HaloPart[]>();
  /** Parts sent straight to a neighbour, and parts handed to the requester to relay. */
  direct = 0;
  relayed = 0;

  constructor(link: Pick<JobLink, "want" | "release" | "isLinked">, holder: string) {
    this.#link = link;
    this.#holder = holder;
  }

  /** The neighbours' holders of a new epoch (none when halos go through the requester). */
  update(peerIds: readonly string[]): void {
    const next = new Set(peerIds);
    for (const id of this.#wanted) if (!next.has(id)) this.#link.release(this.#holder, id);
    for (const id of next) if (!this.#wanted.has(id)) this.#link.want(id, this.#holder);
    this.#wanted = next;
    this.#lastSent.clear();
  }

  /** Splits one exchange's deliveries by whether the neighbour is linked now. */
  route(deliveries: readonly HaloDelivery[]): HaloRoute {
    const direct: HaloDelivery[] = [];
    const relayed: HaloPart[] = [];
    const sent = new Map<string, HaloPart[]>();
    for (const d of deliveries) {
      if (!this.#link.isLinked(d.peerId)) {
        relayed.push(d.part);
        continue;
      }
      direct.push(d);
      sent.set(d.peerId, [...(sent.get(d.peerId) ?? []), d.part]);
    }
    for (const [peerId, parts] of sent) this.#lastSent.set(peerId, parts);
    this.direct += direct.length;
    this.relayed += relayed.length;
    return { direct, relayed };
  }

  /** The link to `peerId` failed or closed: the parts it may have lost, to relay (each at most once). */
  lost(peerId: string): HaloPart[] {
    const parts = this.#lastSent.get(peerId) ?? [];
    this.#lastSent.delete(peerId);
    this.relayed += parts.length;
    return parts;
  }

  close(): void {
    this.#link.release(this.#holder);
    this.#wanted.clear();
    this.#lastSent.clear();
  }
}
