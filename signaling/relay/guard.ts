import { WebSocket, type RawData } from "ws";
import type { ServerMetrics } from "../metrics.ts";
import { decodeRelayFrame, serializeForDestination } from "./frame.ts";
import { PeerBudgets, type PeerBudgetLimits } from "./peer-budgets.ts";
import { PendingRelay, type PendingLimits } from "./pending.ts";

export interface RelayLimits extends PeerBudgetLimits {
  readonly pending: PendingLimits;
  /** A destination with more unsent bytes than this gets no more frames until it catches up. */
  readonly maxDestinationBufferedBytes: number;
}

export interface RelayGuardDeps {
  readonly limits: RelayLimits;
  readonly metrics: ServerMetrics;
  /** The id has a live directory session (it may register with PeerJS any moment). */
  readonly isJoined: (peerId: string) => boolean;
  /** The id's current PeerJS socket, if any. */
  readonly socketOf: (peerId: string) => WebSocket | undefined;
  /** The sender spent its budget: the bridge drops its socket. */
  readonly onFlood: (peerId: string) => void;
  readonly now?: () => number;
}

export type FrameVerdict = "to-peer-package" | "handled";

/**
 * Everything a PeerJS socket sends passes here first. OFFER / ANSWER / CANDIDATE are relayed by this guard
 * itself, and only to an id that is registered now (sent at once) or has a live directory session
 * (held in a bounded queue until it registers); HEARTBEAT goes on to the `peer` package, which keeps the
 * registration alive with it. The package's relay is never reached, so its unbounded queue for unknown ids
 * cannot grow. Every refusal is counted in `rejected.peerjs`.
 */
export class RelayGuard {
  private readonly budgets: PeerBudgets;
  private readonly pending: PendingRelay;
  private readonly now: () => number;

  constructor(private readonly deps: RelayGuardDeps) {
    this.now = deps.now ?? Date.now;
    this.budgets = new PeerBudgets(deps.limits, this.now);
    this.pending = new PendingRelay(deps.limits.pending);
  }

  get pendingBytes(): number {
    return this.pending.totalBytes;
  }

  onFrame(src: string, data: RawData, isBinary: boolean): FrameVerdict {
    const { metrics, limits } = this.deps;
    const bytes = toBuffer(data);
    if (!this.budgets.take(src, bytes.byteLength)) {
      metrics.rejectPeerjs("peerjs_rate_limited");
      this.deps.onFlood(src);
      return "handled";
    }
    const decoded = decodeRelayFrame(bytes, isBinary);
    if (!decoded.ok) {
      metrics.rejectPeerjs(decoded.reason);
      return "handled";
    }
    const frame = decoded.frame;
    metrics.peerjsMessageIn(frame.type);
    if (frame.type === "HEARTBEAT") return "to-peer-package";

    const text = serializeForDestination(frame, src);
    const target = this.deps.socketOf(frame.dst);
    if (target?.readyState === WebSocket.OPEN) {
      // A destination that does not read its socket would make us buffer everything sent to it.
      if (target.bufferedAmount > limits.maxDestinationBufferedBytes) {
        metrics.rejectPeerjs("peerjs_destination_backlogged");
        return "handled";
      }
      target.send(text);
      metrics.peerjsRelayed++;
      return "handled";
    }
    if (!this.deps.isJoined(frame.dst)) {
      metrics.rejectPeerjs("peerjs_unknown_destination");
      // The PeerJS client fails that dial at once on EXPIRE ("peer-unavailable") instead of timing out.
      if (frame.type === "OFFER") this.sendExpire(src, frame.dst);
      return "handled";
    }
    const held = this.pending.hold(src, frame.dst, text, this.now());
    if (held !== "held") {
      metrics.rejectPeerjs(held);
      if (frame.type === "OFFER") this.sendExpire(src, frame.dst);
    }
    return "handled";
  }

  /** `peerId` just registered: deliver what was held for it, in order. */
  onRegistered(peerId: string, ws: WebSocket): void {
    for (const text of this.pending.take(peerId)) {
      ws.send(text);
      this.deps.metrics.peerjsRelayed++;
    }
  }

  /** `peerId`'s directory session ended: nothing held for it will ever be delivered. */
  onSessionEnded(peerId: string): void {
    for (const src of this.pending.dropDestination(peerId)) this.sendExpire(src, peerId);
  }

  /** Expires held frames (telling their senders) and forgets idle budgets; call about once a second. */
  tick(): void {
    for (const { src, dst } of this.pending.expire(this.now())) {
      this.deps.metrics.rejectPeerjs("peerjs_pending_expired");
      this.sendExpire(src, dst);
    }
    this.budgets.prune();
  }

  private sendExpire(src: string, dst: string): void {
    const ws = this.deps.socketOf(src);
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "EXPIRE", src: dst, dst: src }));
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
