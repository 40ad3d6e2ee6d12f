import { Emitter } from "../../base/emitter.ts";
import type { XpMessage } from "../../protocol/experts.ts";

interface LinkEventMap {
  message: { readonly from: string; readonly message: XpMessage };
  model: { readonly from: string; readonly sha256: string; readonly bytes: Uint8Array };
  rejected: { readonly from: string; readonly code: string; readonly detail: string };
  closed: { readonly peerId: string };
}

/**
 * What an ExpertLink hands its listeners (expert-link.ts over the mesh, memory-hub.ts in tests), on the
 * project's one Emitter: a listener that throws is logged and does not silence the link for the others.
 */
export class LinkEvents {
  readonly #emitter = new Emitter<LinkEventMap>();

  message(from: string, message: XpMessage): void {
    this.#emitter.emit("message", { from, message });
  }

  model(from: string, sha256: string, bytes: Uint8Array): void {
    this.#emitter.emit("model", { from, sha256, bytes });
  }

  rejected(from: string, code: string, detail: string): void {
    this.#emitter.emit("rejected", { from, code, detail });
  }

  closed(peerId: string): void {
    this.#emitter.emit("closed", { peerId });
  }

  /** ExpertLink's subscriptions over these events; each returns its own unsubscribe. */
  subscriptions(): {
    onMessage(listener: (from: string, message: XpMessage) => void): () => void;
    onModelBytes(listener: (from: string, sha256: string, bytes: Uint8Array) => void): () => void;
    onRejected(listener: (from: string, code: string, detail: string) => void): () => void;
    onPeerClosed(listener: (peerId: string) => void): () => void;
  } {
    const e = this.#emitter;
    return {
      onMessage: (l) => e.on("message", ({ from, message }) => l(from, message)),
      onModelBytes: (l) => e.on("model", ({ from, sha256, bytes }) => l(from, sha256, bytes)),
      onRejected: (l) => e.on("rejected", ({ from, code, detail }) => l(from, code, detail)),
      onPeerClosed: (l) => e.on("closed", ({ peerId }) => l(peerId)),
    };
  }

  clear(): void {
    this.#emitter.clear();
  }
}
