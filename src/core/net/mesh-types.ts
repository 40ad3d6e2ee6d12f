import type { Identity } from "../identity/identity.ts";
import type { PeerMessage, SignedBody, SignedEnvelope } from "../protocol/peer.ts";
import type { BackpressureOptions } from "./backpressure.ts";
import type { ReassemblyLimits } from "./framing.ts";
import type { RateLimits } from "./link-limits.ts";
import type { MemoryBudgetOptions } from "./memory-budget.ts";
import type { LinkState, RejectionKind } from "./peer-link.ts";
import type { MeshTransport, TransportStatus } from "./transport.ts";

// The mesh's public vocabulary: options, events, counters (see mesh.ts for the behaviour).

/** A peer as the directory announces it. */
export interface MeshPeerInfo {
  readonly peerId: string;
  readonly publicKey: string;
  /** When it (re)joined the directory: a change means a new session (a reloaded tab), so the old link is stale. */
  readonly joinedAtMs?: number;
}

export interface MeshCounters {
  /** Accepted messages from authenticated peers (handshake messages excluded). */
  messagesReceived: number;
  messagesSent: number;
  /** Frames and messages dropped as malformed, out of place, replayed or failing their hash. */
  invalidMessages: number;
  /** Signed envelopes and handshake proofs whose signature or key binding did not verify. */
  forgedSignatures: number;
  handshakesCompleted: number;
  handshakesFailed: number;
  /** Dials that never reached an open data channel. */
  connectFailures: number;
  blobsReceived: number;
  bytesReceived: number;
  bytesSent: number;
  /** Frames and messages dropped unread because their link was over its rate limits. */
  throttledMessages: number;
  /** Links closed because their peer kept sending past its rate limits. */
  linksClosedForFlooding: number;
  /**
   * Messages (blobs included) refused at their first frame because they did not fit the memory budget, and
   * signed envelopes refused because the replay cache was full.
   */
  overBudgetRefused: number;
  /** Signed envelopes refused for their age: older than the window, or too far in the future. */
  staleMessages: number;
  /** Signed envelopes refused because their nonce was seen before (also counted in invalidMessages). */
  replayedMessages: number;
  /** Incoming links from ids the directory did not announce (within the grace period). */
  unknownPeersRefused: number;
  /** Incoming links refused because all link slots were taken. */
  linkCapRefused: number;
  /** Incoming links refused from peers recently closed for flooding. */
  floodersRefused: number;
  /** The most links (open or being set up) held at once: shows whether `maxLinks` was ever reached. */
  peakLinks: number;
}

export interface MeshEvents {
  status: { readonly status: TransportStatus; readonly detail: string | null };
  "peer-open": { readonly peerId: string; readonly publicKey: string; readonly dialer: boolean };
  "peer-close": { readonly peerId: string; readonly reason: string; readonly previous: LinkState };
  /** Every accepted message from an authenticated peer (signed ones only after their signature verified). */
  message: { readonly from: string; readonly message: PeerMessage; readonly attachment: Uint8Array };
  /** A verified signed envelope; `via` is the link it came over, `from` its signer. */
  signed: {
    readonly via: string;
    readonly from: string;
    readonly envelope: SignedEnvelope;
    readonly body: SignedBody;
  };
  /** A blob whose SHA-256 matched (already acknowledged). */
  blob: {
    readonly from: string;
    readonly id: string;
    readonly sha256: string;
    readonly bytes: Uint8Array;
    readonly label: string | null;
  };
  rejected: {
    readonly peerId: string;
    readonly kind: RejectionKind;
    readonly code: string;
    readonly detail: string;
  };
  /** Counters or link stats changed (cheap to read: see `counters` and `links`). */
  stats: null;
}

export type DialPolicy = "all-known" | "on-demand";

export interface MeshOptions {
  identity: Identity;
  transport: MeshTransport;
  limits?: Partial<ReassemblyLimits>;
  backpressure?: Partial<BackpressureOptions>;
  pingIntervalMs?: number;
  /** A link that received nothing (not even a pong) for this long is closed as dead. */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxInvalidPerLink?: number;
  /** Per-link rate limits (link-limits.ts). */
  rateLimits?: Partial<RateLimits>;
  /** Bytes of incoming data all links may hold together, and one link alone (memory-budget.ts). */
  memoryBudget?: Partial<MemoryBudgetOptions>;
  /** Open (or opening) links at most; the other directory peers stay known, not linked. Default 32. */
  maxLinks?: number;
  /**
   * Whom the mesh dials. "all-known": every peer the directory told it about (the smaller id dials), up to
   * maxLinks. "on-demand" (the overlay): only peers some holder wants (`want`, `waitForPeer`), whichever id
   * is smaller, and a link nobody here wants is closed after `unusedLinkMs` without messages. Incoming
   * links from known peers are admitted either way. Default "all-known".
   */
  dialPolicy?: DialPolicy;
  /** On demand: a link nobody here wants that carried no message (pings aside) this long is closed. Default 60 s. */
  unusedLinkMs?: number;
  /** How long an incoming link from an id the directory has not announced yet is held. Default 5 s. */
  unknownPeerGraceMs?: number;
  /** Dial order when there are more peers than free slots (best first). Default: longest in the directory. */
  peerPreference?: (a: MeshPeerInfo, b: MeshPeerInfo) => number;
  /** Signed envelopes older than this are refused; nonces are remembered this long. Default 3 min. */
  maxMessageAgeMs?: number;
  /** How far in the future a signed envelope may claim to be (clock skew). Default 1 min. */
  maxClockSkewMs?: number;
  /** Hard cap on remembered nonces; when reached new envelopes are refused, none forgotten early. */
  replayCacheMax?: number;
  redialBaseMs?: number;
  redialMaxMs?: number;
  /** Enables debugSendRaw (the page's ?test=1 hook): lets tests forge traffic from this peer. */
  enableDebug?: boolean;
  nowMs?: () => number;
}

export interface BlobReceipt {
  readonly id: string;
  readonly sha256: string;
  readonly byteLength: number;
  readonly elapsedMs: number;
}

export type OutgoingMessage = PeerMessage extends infer M
  ? M extends PeerMessage
    ? Omit<M, "v">
    : never
  : never;
