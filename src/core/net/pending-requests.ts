import type { PeerMessage } from "../protocol/peer.ts";
import { MeshError } from "./mesh-error.ts";

export interface Reply {
  message: PeerMessage;
  attachment: Uint8Array;
}

interface Entry {
  readonly peerId: string;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: MeshError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Requests waiting for a reply, by message id; each settles once: reply, timeout, failure or link loss. */
export class PendingRequests {
  private readonly entries = new Map<string, Entry>();

  /** Waits for the reply to message `id` from `peerId`; rejects with MeshError "timeout" after `timeoutMs`. */
  wait(peerId: string, id: string, timeoutMs: number, what: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.entries.delete(id);
        reject(new MeshError("timeout", `${peerId} did not answer ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.entries.set(id, { peerId, resolve, reject, timer });
    });
  }

  /** Settles the request `replyTo` if `from` is the peer it was sent to (anyone else's reply is ignored). */
  resolve(from: string, replyTo: string, reply: Reply): void {
    const entry = this.entries.get(replyTo);
    if (entry?.peerId === from) this.settle(replyTo, entry, reply, null);
  }

  reject(id: string, error: MeshError): void {
    const entry = this.entries.get(id);
    if (entry) this.settle(id, entry, null, error);
  }

  rejectPeer(peerId: string, error: MeshError): void {
    for (const [id, entry] of [...this.entries])
      if (entry.peerId === peerId) this.settle(id, entry, null, error);
  }

  rejectAll(error: MeshError): void {
    for (const [id, entry] of [...this.entries]) this.settle(id, entry, null, error);
  }

  private settle(id: string, entry: Entry, reply: Reply | null, error: MeshError | null): void {
    this.entries.delete(id);
    clearTimeout(entry.timer);
    if (reply) entry.resolve(reply);
    else entry.reject(error ?? new MeshError("closed", "request abandoned"));
  }
}
