import { timingSafeEqual } from "node:crypto";
import type {
  DirectoryErrorCode,
  DirectoryPeer,
  DirectoryServerMessage,
} from "../../src/core/protocol/directory.ts";

/** What the registry needs from a joined connection. */
export interface DirectorySession {
  readonly peer: DirectoryPeer;
  readonly token: string;
  /** Sends an already-serialized frame (a broadcast serializes once for everyone). */
  sendSerialized(text: string, type: DirectoryServerMessage["type"]): void;
  /** Sends an error frame and closes the socket. */
  evict(code: DirectoryErrorCode, message: string, closeCode: number): void;
}

/**
 * Who is online: one session per peer id. Adding, updating and removing a session pushes the change to
 * every other joined peer.
 */
export class DirectoryRegistry {
  private readonly sessions = new Map<string, DirectorySession>();
  private readonly endedListeners = new Set<(peerId: string) => void>();

  get size(): number {
    return this.sessions.size;
  }

  get(peerId: string): DirectorySession | undefined {
    return this.sessions.get(peerId);
  }

  /** Peers except `exceptPeerId`, in join order. */
  list(exceptPeerId?: string): DirectoryPeer[] {
    const peers: DirectoryPeer[] = [];
    for (const session of this.sessions.values()) {
      if (session.peer.peerId !== exceptPeerId) peers.push(session.peer);
    }
    return peers;
  }

  /** Constant-time check that `token` is the session token of the peer currently online as `peerId`. */
  tokenMatches(peerId: string, token: string): boolean {
    const session = this.sessions.get(peerId);
    if (!session) return false;
    const expected = Buffer.from(session.token);
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  add(session: DirectorySession): void {
    if (this.sessions.has(session.peer.peerId)) throw new Error("registry: peer id already online");
    this.sessions.set(session.peer.peerId, session);
    this.broadcast({ v: 1, type: "peer-joined", peer: session.peer }, session.peer.peerId);
  }

  /** Replaces the record of an online session (capabilities changed) and tells the others. */
  update(session: DirectorySession): void {
    if (this.sessions.get(session.peer.peerId) !== session) return;
    this.broadcast({ v: 1, type: "peer-updated", peer: session.peer }, session.peer.peerId);
  }

  /** Removes the session if it is still the current one for its id; false if it was already replaced. */
  remove(session: DirectorySession): boolean {
    const peerId = session.peer.peerId;
    if (this.sessions.get(peerId) !== session) return false;
    this.sessions.delete(peerId);
    for (const listener of this.endedListeners) listener(peerId);
    this.broadcast({ v: 1, type: "peer-left", peerId }, peerId);
    return true;
  }

  /** Called with the peer id whenever a session ends (left, dropped or replaced). */
  onSessionEnded(listener: (peerId: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  private broadcast(message: DirectoryServerMessage, exceptPeerId: string): void {
    const text = JSON.stringify(message);
    // Copy first: a send may drop a slow consumer, which removes it from the map mid-iteration.
    for (const session of [...this.sessions.values()]) {
      if (session.peer.peerId !== exceptPeerId) session.sendSerialized(text, message.type);
    }
  }
}
