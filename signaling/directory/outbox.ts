import type { DirectoryPeer } from "../../src/core/protocol/directory.ts";

/**
 * The changes one session has not been told yet, coalesced until the next tick: a join followed by a
 * leave of the same peer cancels out, and only the latest record of a peer is kept. The frame applies
 * `left` first, then `joined`, then `updated`, which keeps a leave-and-rejoin (a reload) correct.
 */
export class Outbox {
  private readonly left = new Set<string>();
  private readonly joined = new Map<string, DirectoryPeer>();
  private readonly updated = new Map<string, DirectoryPeer>();

  get isEmpty(): boolean {
    return this.left.size === 0 && this.joined.size === 0 && this.updated.size === 0;
  }

  peerJoined(peer: DirectoryPeer): void {
    this.updated.delete(peer.peerId);
    this.joined.set(peer.peerId, peer);
  }

  peerUpdated(peer: DirectoryPeer): void {
    if (this.joined.has(peer.peerId)) this.joined.set(peer.peerId, peer);
    else this.updated.set(peer.peerId, peer);
  }

  peerLeft(peerId: string): void {
    const pendingJoin = this.joined.delete(peerId);
    this.updated.delete(peerId);
    // A peer joined and left within one tick was never seen by this session: nothing to say about it.
    if (!pendingJoin) this.left.add(peerId);
  }

  /** The pending changes, emptied. */
  take(): { left: string[]; joined: DirectoryPeer[]; updated: DirectoryPeer[] } {
    const batch = {
      left: [...this.left],
      joined: [...this.joined.values()],
      updated: [...this.updated.values()],
    };
    this.left.clear();
    this.joined.clear();
    this.updated.clear();
    return batch;
  }
}
