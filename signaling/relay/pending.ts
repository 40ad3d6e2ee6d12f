/** Caps on signaling frames held for a destination that has joined but not yet registered with PeerJS. */
export interface PendingLimits {
  /** A held frame is dropped (and its sender told EXPIRE) after this long, as the `peer` package did. */
  readonly ttlMs: number;
  /** Bytes held for one destination, from everyone. */
  readonly maxBytesPerDestination: number;
  /** Bytes one sender may have held, for all destinations. */
  readonly maxBytesPerSource: number;
  /** Bytes held in total: the server's whole budget for this. */
  readonly maxBytesTotal: number;
}

interface Held {
  readonly src: string;
  readonly text: string;
  readonly bytes: number;
  readonly atMs: number;
}

export type HoldResult =
  "held" | "peerjs_pending_destination_full" | "peerjs_pending_source_full" | "peerjs_pending_full";

/**
 * Frames waiting for their destination's PeerJS socket. Why hold at all: a tab registers with PeerJS a round
 * trip after its directory `welcome`, while everyone else learns of it from `peer-joined` at the same moment
 * and may dial at once, so an OFFER can legitimately arrive a few milliseconds before its destination. The
 * `peer` package's own queue (Realm.messageQueues) holds frames for ANY id, without a cap on count or bytes;
 * this one holds them only for ids with a live directory session (the caller checks), with byte caps per
 * destination, per sender and in total, and FIFO expiry.
 */
export class PendingRelay {
  private readonly byDestination = new Map<string, Held[]>();
  private readonly bytesByDestination = new Map<string, number>();
  private readonly bytesBySource = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: PendingLimits) {}

  get totalBytes(): number {
    return this.total;
  }

  hold(src: string, dst: string, text: string, nowMs: number): HoldResult {
    const bytes = Buffer.byteLength(text);
    if (this.total + bytes > this.limits.maxBytesTotal) return "peerjs_pending_full";
    if ((this.bytesBySource.get(src) ?? 0) + bytes > this.limits.maxBytesPerSource)
      return "peerjs_pending_source_full";
    if ((this.bytesByDestination.get(dst) ?? 0) + bytes > this.limits.maxBytesPerDestination)
      return "peerjs_pending_destination_full";
    let queue = this.byDestination.get(dst);
    if (!queue) {
      queue = [];
      this.byDestination.set(dst, queue);
    }
    queue.push({ src, text, bytes, atMs: nowMs });
    this.account(src, dst, bytes);
    return "held";
  }

  /** Everything held for `dst`, oldest first, and forgets it (the destination has registered). */
  take(dst: string): string[] {
    const queue = this.byDestination.get(dst) ?? [];
    this.byDestination.delete(dst);
    for (const held of queue) this.account(held.src, dst, -held.bytes);
    return queue.map((held) => held.text);
  }

  /** Drops frames older than the TTL; returns each (sender, destination) pair once, to send EXPIRE. */
  expire(nowMs: number): { src: string; dst: string }[] {
    const expired = new Map<string, { src: string; dst: string }>();
    for (const [dst, queue] of this.byDestination) {
      while (queue.length > 0 && nowMs - queue[0]!.atMs >= this.limits.ttlMs) {
        const held = queue.shift()!;
        this.account(held.src, dst, -held.bytes);
        expired.set(`${held.src} ${dst}`, { src: held.src, dst });
      }
      if (queue.length === 0) this.byDestination.delete(dst);
    }
    return [...expired.values()];
  }

  /** Forgets what `dst` would have received (its directory session ended); returns the senders to tell. */
  dropDestination(dst: string): string[] {
    const senders = new Set<string>();
    for (const held of this.byDestination.get(dst) ?? []) senders.add(held.src);
    this.take(dst);
    return [...senders];
  }

  private account(src: string, dst: string, delta: number): void {
    this.total += delta;
    adjust(this.bytesBySource, src, delta);
    adjust(this.bytesByDestination, dst, delta);
  }
}

function adjust(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
