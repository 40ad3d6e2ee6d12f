import type { Identity } from "../identity/identity.ts";
import {
  PEER_PROTOCOL_VERSION,
  parsePeerMessage,
  peerMessageSchema,
  type PeerMessage,
} from "../protocol/peer.ts";
import { BackpressureError, sendWithBackpressure, type BackpressureOptions } from "./backpressure.ts";
import { FrameEncoder, FramingError, Reassembler, type ReassemblyLimits } from "./framing.ts";
import { Handshake } from "./handshake.ts";
import { LinkRateLimiter, type RateKind, type RateLimits, type RateVerdict } from "./link-limits.ts";
import type { MemoryAccount } from "./memory-budget.ts";
import { MeshError } from "./mesh-error.ts";
import type { LinkTransport } from "./transport.ts";

export type LinkState = "connecting" | "handshaking" | "open" | "closed";

export interface LinkStats {
  readonly peerId: string;
  readonly dialer: boolean;
  readonly state: LinkState;
  /** Last measured round trip (ping → pong), null until one completed. */
  readonly rttMs: number | null;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly invalidMessages: number;
  /** Messages and frames dropped by this link's rate limits. */
  readonly throttledMessages: number;
  /** Bytes this link holds in the shared memory budget right now. */
  readonly heldBytes: number;
  readonly openedAtMs: number | null;
}

/**
 * invalid/forged/handshake: the peer sent something wrong. throttled: over its rate limits (dropped unread).
 * refused: well-formed but over a budget (memory, replay cache) or otherwise not accepted from this link.
 */
export type RejectionKind = "invalid" | "forged" | "handshake" | "throttled" | "refused";

export interface Rejection {
  readonly kind: RejectionKind;
  readonly code: string;
  readonly detail: string;
}

export interface LinkHooks {
  authenticated(link: PeerLink): void;
  /**
   * An authenticated, well-formed message (never hello/hello-proof). The link's next message waits for the
   * returned promise, and the message's bytes stay reserved in the memory budget until then.
   */
  message(link: PeerLink, message: PeerMessage, attachment: Uint8Array): Promise<void> | void;
  rejected(link: PeerLink, rejection: Rejection): void;
  /** `previous` tells a failed dial ("connecting") or handshake ("handshaking") from a closed link ("open"). */
  closed(link: PeerLink, reason: string, previous: LinkState): void;
}

export interface LinkOptions {
  limits: Readonly<ReassemblyLimits>;
  backpressure: Readonly<BackpressureOptions>;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  /** A peer that sends this many invalid messages on one link is disconnected. */
  maxInvalidMessages: number;
  rateLimits: Readonly<RateLimits>;
  /** This link's share of the mesh's memory budget for incoming data. */
  memory: MemoryAccount;
  nowMs: () => number;
}

/**
 * One data connection to one peer: framing in both directions, the handshake, then authenticated messages
 * handed to the mesh. Bad input from the remote is dropped and reported through `hooks.rejected`, never thrown.
 */
export class PeerLink {
  private linkState: LinkState = "connecting";
  private readonly reassembler: Reassembler;
  private readonly encoder: FrameEncoder;
  private readonly handshake: Handshake;
  /** Incoming messages are processed one at a time: handshake steps are async and must stay in order. */
  private inbox: Promise<void> = Promise.resolve();
  /** Multi-frame messages go out one after another so the receiver holds few partial messages. */
  private bulkLane: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private counts = {
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    invalidMessages: 0,
  };
  private openedAtMs: number | null = null;
  private readonly limiter: LinkRateLimiter;
  /** Set when the link was closed because the peer kept flooding past its rate limits. */
  closedForFlooding = false;
  lastReceivedAtMs: number;
  rttMs: number | null = null;

  constructor(
    readonly transport: LinkTransport,
    identity: Identity,
    expectedPublicKey: string | null,
    private readonly hooks: LinkHooks,
    private readonly options: LinkOptions,
  ) {
    this.limiter = new LinkRateLimiter(options.rateLimits, options.nowMs);
    // Admission at a message's first frame: the message rate first (a counter), then the memory budget.
    this.reassembler = new Reassembler(options.limits, options.nowMs, {
      admit: (bytes) => {
        if (!this.allow("message")) return "throttled";
        return options.memory.reserve(bytes) ? null : "over_budget";
      },
      release: (bytes) => options.memory.release(bytes),
    });
    this.encoder = new FrameEncoder(options.limits);
    this.handshake = new Handshake(
      identity,
      transport.remotePeerId,
      () => transport.fingerprints(),
      expectedPublicKey,
    );
    this.lastReceivedAtMs = options.nowMs();
    this.arm(options.connectTimeoutMs, "connect-timeout");
    transport.onOpen(() => this.onTransportOpen());
    transport.onData((data) => this.onData(data));
    transport.onClose((reason) => this.finish(reason));
  }

  get peerId(): string {
    return this.transport.remotePeerId;
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** The remote's proven public key (null until the handshake completed). */
  get publicKey(): string | null {
    return this.handshake.remotePublicKey;
  }

  get stats(): LinkStats {
    return {
      peerId: this.peerId,
      dialer: this.transport.dialer,
      state: this.linkState,
      rttMs: this.rttMs,
      ...this.counts,
      throttledMessages: this.limiter.throttledTotal,
      heldBytes: this.options.memory.heldBytes,
      openedAtMs: this.openedAtMs,
    };
  }

  /** Sends a message (checked against the schema first: a bug here must not reach the peer as garbage). */
  async send(message: PeerMessage, attachment?: Uint8Array): Promise<void> {
    if (this.linkState !== "open")
      throw new MeshError("not_connected", `link to ${this.peerId} is ${this.linkState}`);
    const checked = peerMessageSchema.safeParse(message);
    if (!checked.success)
      throw new MeshError(
        "invalid_outgoing",
        `outgoing ${message.type} is invalid: ${checked.error.message}`,
      );
    await this.sendFramed(message, attachment);
  }

  /** Test-only: frames and sends any JSON header without checking it, to forge messages. */
  async sendUnchecked(header: unknown, attachment?: Uint8Array): Promise<void> {
    if (this.linkState !== "open")
      throw new MeshError("not_connected", `link to ${this.peerId} is ${this.linkState}`);
    await this.sendFramed(header, attachment);
  }

  /** Test-only: puts bytes or text on the channel with no framing at all. */
  sendRaw(data: Uint8Array<ArrayBuffer> | string): void {
    const channel = this.transport.channel;
    if (!channel || this.linkState !== "open")
      throw new MeshError("not_connected", `link to ${this.peerId} is ${this.linkState}`);
    channel.send(data);
    this.counts.bytesSent += typeof data === "string" ? data.length : data.length;
  }

  close(reason: string): void {
    if (this.linkState === "closed") return;
    // Finish first: the transport reports its own close synchronously, with a less specific reason.
    this.finish(reason);
    this.transport.close();
  }

  /** Periodic housekeeping: drops stalled partial messages. */
  sweep(): void {
    this.reassembler.sweep();
  }

  private async sendFramed(header: unknown, attachment?: Uint8Array): Promise<void> {
    const channel = this.transport.channel;
    if (!channel) throw new MeshError("not_connected", `link to ${this.peerId} has no open channel`);
    let encoded;
    try {
      encoded = this.encoder.encode(header, attachment);
    } catch (error) {
      if (error instanceof FramingError) throw new MeshError("invalid_outgoing", error.message);
      throw error;
    }
    const run = async (): Promise<void> => {
      try {
        this.counts.bytesSent += await sendWithBackpressure(
          channel,
          encoded.frames(),
          this.options.backpressure,
        );
        this.counts.messagesSent++;
      } catch (error) {
        if (error instanceof BackpressureError) {
          throw new MeshError(error.code === "channel_closed" ? "peer_closed" : "send_failed", error.message);
        }
        throw error;
      }
    };
    if (encoded.frameCount === 1) return run();
    const queued = this.bulkLane.then(run);
    this.bulkLane = queued.catch(() => undefined);
    return queued;
  }

  private onTransportOpen(): void {
    if (this.linkState !== "connecting") return;
    this.linkState = "handshaking";
    this.arm(this.options.handshakeTimeoutMs, "handshake-timeout");
    this.sendFramed(this.handshake.hello()).catch((error: unknown) =>
      this.close(`hello failed: ${String(error)}`),
    );
  }

  private onData(data: unknown): void {
    // A link being closed for flooding reads nothing more (the close runs right after this frame).
    if (this.linkState === "closed" || this.closedForFlooding) return;
    // Browsers fire `open` before any message; if a transport ever does not, data proves the channel is open.
    if (this.linkState === "connecting" && this.transport.channel) this.onTransportOpen();
    this.lastReceivedAtMs = this.options.nowMs();
    // The byte rate is charged per raw frame, before the frame is even looked at.
    if (!this.allow("bytes", frameSize(data))) {
      this.counts.bytesReceived += frameSize(data);
      this.reassembler.abandon(data);
      return;
    }
    const before = this.reassembler.stats.bytesReceived;
    const result = this.reassembler.push(data);
    this.counts.bytesReceived += this.reassembler.stats.bytesReceived - before;
    if (result.kind === "partial" || result.kind === "skipped") return;
    if (result.kind === "dropped") {
      if (result.reason === "throttled") return; // counted by allow()
      if (result.reason === "over_budget") return this.refuseOverBudget(result.header);
      this.reject({
        kind: "invalid",
        code: `frame_${result.reason}`,
        detail: `frame dropped: ${result.reason}`,
      });
      return;
    }
    const reserved = result.reservedBytes;
    const parsed = parsePeerMessage(result.header, result.attachment);
    if (!parsed.ok) {
      this.options.memory.release(reserved);
      this.reject({ kind: "invalid", code: parsed.code, detail: parsed.detail });
      return;
    }
    // Per-type limits on what costs us work: a signature check, or a pong.
    const kind = parsed.message.type === "signed" ? "signed" : parsed.message.type === "ping" ? "ping" : null;
    if (kind !== null && !this.allow(kind)) {
      this.options.memory.release(reserved);
      return;
    }
    this.inbox = this.inbox
      .then(() => this.process(parsed.message, parsed.attachment))
      .catch(() => undefined)
      .finally(() => this.options.memory.release(reserved));
  }

  /** Takes from a rate bucket; on refusal reports the drop, and closes the link once the peer keeps flooding. */
  private allow(kind: RateKind, cost = 1): boolean {
    const verdict: RateVerdict = this.limiter.check(kind, cost);
    if (verdict === "ok") return true;
    this.hooks.rejected(this, {
      kind: "throttled",
      code: `rate_${kind}`,
      detail: `over the ${kind} rate limit`,
    });
    if (verdict === "flooding" && this.linkState !== "closed" && !this.closedForFlooding) {
      this.closedForFlooding = true;
      // Closed after the current frame is handled (the reassembler is in the middle of it).
      queueMicrotask(() =>
        this.close(`flooding: ${this.limiter.throttledTotal} messages over the rate limits`),
      );
    }
    return false;
  }

  /** A message too big for the remaining budget, refused at its first frame; a blob offer gets a clear no. */
  private refuseOverBudget(header: unknown): void {
    const offer = header as { type?: unknown; id?: unknown } | undefined;
    const blobId = offer?.type === "blob" && typeof offer.id === "string" ? offer.id : null;
    this.hooks.rejected(this, {
      kind: "refused",
      code: "over_budget",
      detail: `${blobId !== null ? `blob ${blobId}` : "a message"} does not fit the memory budget`,
    });
    if (blobId === null || this.linkState !== "open") return;
    const refusal = {
      v: PEER_PROTOCOL_VERSION,
      type: "blob-ack",
      replyTo: blobId,
      ok: false,
      reason: "over_budget",
    };
    if (peerMessageSchema.safeParse(refusal).success) this.sendFramed(refusal).catch(() => undefined);
  }

  private async process(message: PeerMessage, attachment: Uint8Array): Promise<void> {
    if (this.linkState === "closed") return;
    if (this.linkState === "open") {
      if (message.type === "hello" || message.type === "hello-proof") {
        this.reject({
          kind: "invalid",
          code: "handshake_repeated",
          detail: `${message.type} after the handshake`,
        });
        return;
      }
      this.counts.messagesReceived++;
      await this.hooks.message(this, message, attachment);
      return;
    }
    if (this.linkState !== "handshaking") return;
    if (message.type === "hello") {
      const step = await this.handshake.onHello(message);
      if (!step.ok) return this.failHandshake(step.code, step.detail);
      try {
        await this.sendFramed(step.proof!);
      } catch (error) {
        this.close(`proof failed: ${String(error)}`);
      }
      return;
    }
    if (message.type === "hello-proof") {
      const step = await this.handshake.onProof(message);
      if (!step.ok) return this.failHandshake(step.code, step.detail);
      if (this.linkState !== "handshaking") return;
      this.linkState = "open";
      this.openedAtMs = this.options.nowMs();
      this.disarm();
      this.hooks.authenticated(this);
      return;
    }
    this.failHandshake("unexpected_message", `${message.type} before the handshake completed`);
  }

  private failHandshake(code: string, detail: string): void {
    this.hooks.rejected(this, { kind: code === "bad_proof" ? "forged" : "handshake", code, detail });
    this.close(`handshake failed: ${code}`);
  }

  private reject(rejection: Rejection): void {
    this.counts.invalidMessages++;
    this.hooks.rejected(this, rejection);
    if (this.linkState === "handshaking") {
      this.close(`handshake failed: ${rejection.code}`);
    } else if (this.counts.invalidMessages >= this.options.maxInvalidMessages) {
      this.close(`too many invalid messages (${this.counts.invalidMessages})`);
    }
  }

  private arm(delayMs: number, reason: string): void {
    this.disarm();
    this.timer = setTimeout(() => this.close(reason), delayMs);
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private finish(reason: string): void {
    if (this.linkState === "closed") return;
    const previous = this.linkState;
    this.linkState = "closed";
    this.disarm();
    this.reassembler.clear();
    // Messages still queued release their bytes as the inbox drains (it skips them: the link is closed).
    this.hooks.closed(this, reason, previous);
  }
}

function frameSize(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 1;
}
