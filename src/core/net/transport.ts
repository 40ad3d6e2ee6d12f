import type { SendChannel } from "./backpressure.ts";
import type { ChannelFingerprints } from "./handshake.ts";
import { CodedError } from "../base/coded-error.ts";

/**
 * What the mesh needs from a WebRTC stack, so the mesh logic is written once: peerjs-transport.ts
 * implements it in the browser; a Node volunteer can implement it over another WebRTC library.
 */
export type TransportStatus = "connecting" | "open" | "disconnected" | "closed";

/** One data connection to one remote peer. */
export interface LinkTransport {
  /** The id the signaling server says the remote registered with (not yet proven: see handshake.ts). */
  readonly remotePeerId: string;
  /** True when this side dialed. */
  readonly dialer: boolean;
  /** The open data channel, or null before `open` and after `close`. */
  readonly channel: SendChannel | null;
  fingerprints(): ChannelFingerprints;
  onOpen(listener: () => void): void;
  /** Raw data as the channel delivers it (ArrayBuffer for binary, string for text): untrusted. */
  onData(listener: (data: unknown) => void): void;
  /** Called once, whatever the cause (remote closed, ICE failed, local close). */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

export interface MeshTransport {
  readonly localPeerId: string;
  /** Resolves once registered with the signaling server; rejects with a TransportError. */
  start(): Promise<void>;
  dial(remotePeerId: string): LinkTransport;
  onConnection(listener: (link: LinkTransport) => void): void;
  onStatus(listener: (status: TransportStatus, detail: string | null) => void): void;
  /** Re-register now if disconnected from the signaling server (e.g. the directory issued a new token). */
  reconnect(): void;
  close(): void;
}

export type TransportErrorCode = "signaling_failed" | "id_rejected" | "closed";

export class TransportError extends CodedError<TransportErrorCode> {
  override readonly name = "TransportError";
}
