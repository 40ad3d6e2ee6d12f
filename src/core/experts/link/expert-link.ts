import type { Mesh } from "../../net/mesh.ts";
import {
  decodeXp,
  encodeXp,
  XP_MODEL_BLOB_LABEL,
  XP_WIRE_VERSION,
  type XpMessage,
} from "../../protocol/experts.ts";
import { sha256Hex } from "../../base/digest.ts";
import { LinkEvents } from "./link-events.ts";

/**
 * How the expert router and the expert host talk: xp messages (protocol/experts.ts) and model bytes (blobs labelled
 * XP_MODEL_BLOB_LABEL) between peers, plus a loopback for the tab's own id, so one tab alone can be both
 * requester and host (like jobs/job-link.ts). `from` is always the authenticated peer (or this tab).
 */
export interface ExpertLink {
  readonly selfId: string;
  /** Resolves once queued on the channel; rejects if there is no open link to `to`. */
  send(to: string, message: XpMessage): Promise<void>;
  /** Resolves once the peer acknowledged the bytes (their SHA-256 matched). */
  sendModelBytes(to: string, bytes: Uint8Array): Promise<void>;
  onMessage(listener: (from: string, message: XpMessage) => void): () => void;
  onModelBytes(listener: (from: string, sha256: string, bytes: Uint8Array) => void): () => void;
  /** An xp message that did not validate past the mesh's own checks (dropped; nothing else happens). The
   *  mesh counts and reports the ones it rejected itself (its `rejected` event). */
  onRejected(listener: (from: string, code: string, detail: string) => void): () => void;
  /** The link to a peer closed (its tab went away, or the network did). */
  onPeerClosed(listener: (peerId: string) => void): () => void;
  /** Peers with an open authenticated link, plus this tab. */
  connectedPeerIds(): string[];
  close(): void;
}

/** Loopback deliveries are asynchronous: a sender must not re-enter its own handler mid-event. */
const later = (fn: () => void): void => void Promise.resolve().then(fn);

/** A copy of `message` as a receiver would decode it (same validation path as the wire). */
export function roundTrip(message: XpMessage): ReturnType<typeof decodeXp> {
  const { body, attachment } = encodeXp(message);
  return decodeXp(JSON.parse(JSON.stringify(body)) as unknown, attachment);
}

/** The ExpertLink of a tab (or Node peer) on the mesh. */
export function meshExpertLink(mesh: Mesh): ExpertLink {
  const selfId = mesh.peerId;
  const events = new LinkEvents();
  const offs = [
    mesh.on("message", (event) => {
      const m = event.message;
      if (m.type !== "xp") return;
      // Already validated by parsePeerMessage; decodeXp restores the rows (and refuses non-finite ones).
      const decoded = decodeXp(m.body, event.attachment);
      if (decoded.ok) events.message(event.from, decoded.message);
      else events.rejected(event.from, decoded.code, decoded.detail);
    }),
    mesh.on("blob", (event) => {
      if (event.label === XP_MODEL_BLOB_LABEL) events.model(event.from, event.sha256, event.bytes);
    }),
    mesh.on("peer-close", (event) => events.closed(event.peerId)),
  ];
  return {
    selfId,
    async send(to, message) {
      if (to === selfId) {
        const copy = roundTrip(message);
        later(() =>
          copy.ok ? events.message(selfId, copy.message) : events.rejected(selfId, copy.code, copy.detail),
        );
        return;
      }
      const { body, attachment } = encodeXp(message);
      await mesh.send(to, { type: "xp", xv: XP_WIRE_VERSION, body }, attachment);
    },
    async sendModelBytes(to, bytes) {
      if (to === selfId) {
        const sha = await sha256Hex(bytes);
        later(() => events.model(selfId, sha, bytes));
        return;
      }
      await mesh.sendBlob(to, bytes, { label: XP_MODEL_BLOB_LABEL });
    },
    ...events.subscriptions(),
    connectedPeerIds: () => [selfId, ...mesh.connectedPeerIds()],
    close() {
      for (const off of offs) off();
      events.clear();
    },
  };
}
