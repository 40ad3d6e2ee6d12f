import { parsePeerMessage, PEER_PROTOCOL_VERSION } from "../../protocol/peer.ts";
import { sha256Hex } from "../../base/digest.ts";
import type { ExpertLink } from "./expert-link.ts";
import { LinkEvents } from "./link-events.ts";
import { decodeXp, encodeXp, XP_WIRE_VERSION } from "../../protocol/experts.ts";

/**
 * FAKE transport, for unit tests and in-process benchmarks: ExpertLinks between peers of one process with no
 * WebRTC in between. Every message still takes the wire's path (JSON header, byte attachment,
 * parsePeerMessage, decodeXp), so what a real peer would reject is rejected here too; deliveries are
 * asynchronous and in order per sender. `kill` is a tab that goes away: its link closes and every other
 * peer sees the link close, as the mesh reports it.
 */
export class MemoryExpertHub {
  readonly #peers = new Map<string, MemoryPeer>();
  readonly #latencyMs: number;
  /** Frames refused by parsePeerMessage or decodeXp, over all peers. */
  rejected = 0;
  delivered = 0;

  constructor(options: { latencyMs?: number } = {}) {
    this.#latencyMs = options.latencyMs ?? 0;
  }

  link(peerId: string): ExpertLink {
    if (this.#peers.has(peerId)) throw new Error(`peer ${peerId} already has a link on this hub`);
    const peer = new MemoryPeer(peerId);
    this.#peers.set(peerId, peer);
    return {
      selfId: peerId,
      send: async (to, message) => {
        const { body, attachment } = encodeXp(message);
        this.#deliver(
          peerId,
          to,
          { v: PEER_PROTOCOL_VERSION, type: "xp", xv: XP_WIRE_VERSION, body },
          attachment,
        );
      },
      sendModelBytes: async (to, bytes) => {
        this.#target(peerId, to);
        const sha = await sha256Hex(bytes);
        const copy = bytes.slice();
        setTimeout(() => {
          const target = this.#peers.get(to);
          if (target?.alive) target.events.model(peerId, sha, copy);
        }, this.#latencyMs);
      },
      ...peer.events.subscriptions(),
      connectedPeerIds: () => [...this.#peers.values()].filter((p) => p.alive).map((p) => p.id),
      close: () => this.kill(peerId),
    };
  }

  /** The peer's tab goes away: it hears nothing more, sends fail, the others see its link close. */
  kill(peerId: string): void {
    const peer = this.#peers.get(peerId);
    if (!peer?.alive) return;
    peer.alive = false;
    peer.events.clear();
    for (const other of this.#peers.values()) {
      if (other.alive) setTimeout(() => other.events.closed(peerId), 0);
    }
  }

  isAlive(peerId: string): boolean {
    return this.#peers.get(peerId)?.alive ?? false;
  }

  /** Forged traffic (tests): an arbitrary header and attachment from `from`, validated as the wire would. */
  sendRaw(from: string, to: string, header: unknown, attachment: Uint8Array = new Uint8Array(0)): void {
    this.#deliver(from, to, header, attachment);
  }

  #target(from: string, to: string): MemoryPeer {
    const source = this.#peers.get(from);
    const target = this.#peers.get(to);
    if (!source?.alive) throw new Error(`peer ${from} is closed`);
    if (!target?.alive) throw new Error(`no open link to ${to}`);
    return target;
  }

  #deliver(from: string, to: string, header: unknown, attachment: Uint8Array): void {
    this.#target(from, to);
    let json: string;
    try {
      json = JSON.stringify(header);
    } catch {
      throw new Error("header is not JSON-serializable");
    }
    const bytes = attachment.slice();
    setTimeout(() => {
      const target = this.#peers.get(to);
      if (!target?.alive || !this.#peers.get(from)?.alive) return;
      const parsed = parsePeerMessage(JSON.parse(json) as unknown, bytes);
      if (!parsed.ok || parsed.message.type !== "xp") {
        this.rejected++;
        const code = parsed.ok ? "not_xp" : parsed.code;
        target.events.rejected(from, code, parsed.ok ? `a ${parsed.message.type} message` : parsed.detail);
        return;
      }
      const decoded = decodeXp(parsed.message.body, parsed.attachment);
      if (!decoded.ok) {
        this.rejected++;
        target.events.rejected(from, decoded.code, decoded.detail);
        return;
      }
      this.delivered++;
      target.events.message(from, decoded.message);
    }, this.#latencyMs);
  }
}

class MemoryPeer {
  alive = true;
  readonly events = new LinkEvents();
  constructor(readonly id: string) {}
}
