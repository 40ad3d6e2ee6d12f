import type { Identity } from "../identity/identity.ts";
import { PEER_ID_PATTERN } from "../protocol/ids.ts";
import {
  PEER_PROTOCOL_VERSION,
  type PeerMessage,
  type SignedBodyInput,
  type SignedEnvelope,
} from "../protocol/peer.ts";
import { signEnvelope } from "../identity/signed-envelope.ts";
import { Emitter } from "../base/emitter.ts";
import { LinkAdmission, type AdmissionRefusal } from "./link-admission.ts";
import { dialedLink, MeshDialing } from "./mesh-dialing.ts";
import { randomMessageId } from "./message-id.ts";
import { keepAlive } from "./keep-alive.ts";
import { MemoryBudget, type MemoryBudgetStats } from "./memory-budget.ts";
import { admissionOptions, resolveMeshConfig, type MeshConfig } from "./mesh-config.ts";
import { MeshTally } from "./mesh-tally.ts";
import { MeshError } from "./mesh-error.ts";
import type {
  BlobReceipt,
  MeshCounters,
  MeshEvents,
  MeshOptions,
  MeshPeerInfo,
  OutgoingMessage,
} from "./mesh-types.ts";
import { PendingRequests, type Reply } from "./pending-requests.ts";
import { RedialSchedule } from "./redial-schedule.ts";
import { PeerLink, type LinkHooks, type LinkState, type LinkStats, type Rejection } from "./peer-link.ts";
import { ReplayWindow } from "./replay-window.ts";
import { MeshIntake } from "./mesh-intake.ts";
import { withBlobs, type AttachedBlob } from "./signed-blobs.ts";
import type { LinkTransport, MeshTransport, TransportStatus } from "./transport.ts";

export type { MeshEvents, MeshOptions } from "./mesh-types.ts";
import { sendBlobVia } from "./blob-transfer.ts";
import { debugSend } from "./debug-send.ts";

/** How often `stats` fires at most: a flood must not turn into a UI update per dropped message. */
const STATS_COALESCE_MS = 100;

/**
 * The WebRTC mesh: one authenticated link per peer in the directory, up to `maxLinks`. The smaller peer id
 * dials, so two peers never open two connections to each other; a dropped link is redialed with backoff
 * while the peer stays in the directory. Only peers the directory announced get a link (link-admission.ts).
 * On demand (the overlay: mesh-dialing.ts) it dials only wanted peers.
 * Everything a peer sends is rate-limited per link, held within one memory budget, validated, and dropped
 * and counted when bad.
 */
export class Mesh {
  readonly identity: Identity;
  private readonly transport: MeshTransport;
  private readonly emitter = new Emitter<MeshEvents>();
  private readonly links = new Map<string, PeerLink>();
  private readonly known = new Map<string, MeshPeerInfo>();
  private readonly redials: RedialSchedule;
  private readonly pending = new PendingRequests();
  private readonly replay: ReplayWindow;
  private readonly memory: MemoryBudget;
  private readonly admission: LinkAdmission;
  private readonly tally = new MeshTally();
  private readonly dialing: MeshDialing;
  private readonly options: MeshConfig;
  private readonly linkHooks: LinkHooks;
  private readonly intake: MeshIntake;
  private transportStatus: TransportStatus = "connecting";
  private tick: ReturnType<typeof setInterval> | null = null;
  private statsTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(options: MeshOptions) {
    const links = this.links;
    this.identity = options.identity;
    this.transport = options.transport;
    this.options = resolveMeshConfig(options);
    const o = this.options;
    this.dialing = new MeshDialing(options.identity.peerId, o.dialPolicy, o.unusedLinkMs);
    this.replay = new ReplayWindow(o.maxMessageAgeMs + o.maxClockSkewMs, o.replayCacheMax, o.nowMs);
    this.memory = new MemoryBudget(o.memoryBudget);
    this.admission = new LinkAdmission(admissionOptions(o), {
      get linkCount() {
        return links.size;
      },
      hasLink: (peerId) => this.links.has(peerId),
      isKnown: (peerId) => this.known.has(peerId),
      admit: (transport) => this.admitIncoming(transport),
      refused: (peerId, code, detail) => this.onAdmissionRefused(peerId, code, detail),
    });
    this.redials = new RedialSchedule(this.options.redialBaseMs, this.options.redialMaxMs);
    this.linkHooks = {
      authenticated: (link) => this.onAuthenticated(link),
      message: (link, message, attachment) => this.intake.onMessage(link, message, attachment),
      rejected: (link, rejection) => this.onRejected(link.peerId, rejection),
      closed: (link, reason, previous) => this.onLinkClosed(link, reason, previous),
    };
    this.intake = new MeshIntake({
      peerId: options.identity.peerId,
      options: o,
      emitter: this.emitter,
      tally: this.tally,
      pending: this.pending,
      replay: this.replay,
      send: (peerId, message) => this.send(peerId, message),
      touch: (peerId, type) => this.touch(peerId, type),
      rejected: (peerId, rejection) => this.onRejected(peerId, rejection),
      statsChanged: () => this.statsChanged(),
    });
    this.transport.onStatus((status, detail) => {
      this.transportStatus = status;
      this.emitter.emit("status", { status, detail });
    });
    this.transport.onConnection((transport) => this.onIncoming(transport));
  }

  get peerId(): string {
    return this.identity.peerId;
  }

  get status(): TransportStatus {
    return this.transportStatus;
  }

  get counters(): MeshCounters {
    return this.tally.snapshot(this.linkStats());
  }

  /** The shared budget for incoming data: capacity, bytes held now, the peak, refusals. */
  get memoryStats(): MemoryBudgetStats {
    return this.memory.stats;
  }

  /** Stats of every current link (open or being set up). */
  linkStats(): LinkStats[] {
    return [...this.links.values()].map((link) => link.stats);
  }

  /** Bytes handed to the links' data channels and not yet transmitted (a peer leaving waits for 0). */
  unsentBytes(): number {
    let bytes = 0;
    for (const link of this.links.values()) bytes += link.transport.channel?.bufferedAmount ?? 0;
    return bytes;
  }

  connectedPeerIds(): string[] {
    return [...this.links.values()].filter((l) => l.state === "open").map((l) => l.peerId);
  }

  on<K extends keyof MeshEvents>(event: K, listener: (payload: MeshEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** `holder` ("jobs"…) has work with `peerId`: on demand it is dialed and kept. */
  want(peerId: string, holder: string): void {
    if (this.closed || peerId === this.peerId || !PEER_ID_PATTERN.test(peerId)) return;
    this.dialing.demand.want(peerId, holder);
    this.fillLinks();
  }

  /** `holder` is done with `peerId` (or every peer): an unused link then closes. */
  release(holder: string, peerId?: string): void {
    this.dialing.demand.release(holder, peerId);
  }

  /** Registers with the signaling server, then keeps links healthy until close(). */
  async start(): Promise<void> {
    await this.transport.start();
    if (this.closed) return;
    this.tick = setInterval(() => this.onTick(), this.options.pingIntervalMs);
    this.fillLinks();
  }

  /** The directory's view of who is online; dials the peers this side is responsible for. */
  updatePeers(peers: readonly MeshPeerInfo[]): void {
    if (this.closed) return;
    const next = new Map<string, MeshPeerInfo>();
    for (const peer of peers) {
      if (peer.peerId !== this.peerId && PEER_ID_PATTERN.test(peer.peerId)) next.set(peer.peerId, peer);
    }
    for (const [peerId, link] of this.links) {
      const before = this.known.get(peerId);
      const now = next.get(peerId);
      if (!now && link.state !== "open") link.close("left the directory");
      else if (
        now &&
        before?.joinedAtMs !== undefined &&
        now.joinedAtMs !== undefined &&
        before.joinedAtMs !== now.joinedAtMs
      ) {
        link.close("peer rejoined the directory");
      }
    }
    for (const peerId of this.known.keys()) {
      if (!next.has(peerId)) this.redials.reset(peerId);
    }
    this.known.clear();
    for (const [peerId, peer] of next) this.known.set(peerId, peer);
    this.admission.directoryChanged();
    this.fillLinks();
  }

  /** Resolves once an authenticated link to `peerId` is open (on demand: wanted, so dialed). */
  waitForPeer(peerId: string, timeoutMs: number = this.options.connectTimeoutMs): Promise<void> {
    if (this.links.get(peerId)?.state === "open") return Promise.resolve();
    const holder = `wait:${randomMessageId()}`;
    return new Promise<void>((resolve, reject) => {
      const off = this.on("peer-open", (event) => {
        if (event.peerId !== peerId) return;
        clearTimeout(timer);
        off();
        resolve();
      });
      const timer = setTimeout(() => {
        off();
        reject(new MeshError("timeout", `no link to ${peerId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.want(peerId, holder);
    }).finally(() => this.release(holder, peerId));
  }

  async send(peerId: string, message: OutgoingMessage, attachment?: Uint8Array): Promise<void> {
    this.touch(peerId, message.type);
    await this.openLink(peerId).send({ ...message, v: PEER_PROTOCOL_VERSION } as PeerMessage, attachment);
    this.statsChanged();
  }

  /** Signs a body with this peer's key (addressed to `to`, or to anyone when null). */
  signEnvelope(
    body: SignedBodyInput,
    to: string | null,
    correlation: { id?: string; replyTo?: string } = {},
  ): Promise<SignedEnvelope> {
    return signEnvelope(this.identity, body, { to, ...correlation });
  }

  /** Signs `body` for `peerId` and sends it, `blobs` attached (signed-blobs.ts); resolves once it is queued. */
  async sendSigned(peerId: string, body: SignedBodyInput, blobs: readonly AttachedBlob[] = []) {
    const envelope = await this.signEnvelope(body, peerId);
    const { message, attachment } = await withBlobs(envelope, blobs);
    await this.send(peerId, message, attachment);
    return envelope;
  }

  /** Sends a message with a fresh `id` and resolves with the peer's reply (the message whose replyTo is that id). */
  request(
    peerId: string,
    message: OutgoingMessage,
    options: { attachment?: Uint8Array; timeoutMs?: number } = {},
  ): Promise<Reply> {
    const id = message.id ?? randomMessageId();
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    const reply = this.pending.wait(peerId, id, timeoutMs, message.type);
    this.send(peerId, { ...message, id } as OutgoingMessage, options.attachment).catch((error: unknown) => {
      this.pending.reject(
        id,
        error instanceof MeshError ? error : new MeshError("send_failed", String(error)),
      );
    });
    return reply;
  }

  /** Round trip to `peerId` in ms (also recorded in its link stats). */
  async ping(peerId: string, timeoutMs?: number): Promise<number> {
    const startMs = this.options.nowMs();
    await this.request(
      peerId,
      { type: "ping", id: randomMessageId() },
      timeoutMs === undefined ? {} : { timeoutMs },
    );
    const rttMs = this.options.nowMs() - startMs;
    const link = this.links.get(peerId);
    if (link) link.rttMs = rttMs;
    this.statsChanged();
    return rttMs;
  }

  /** Sends bytes as one blob; resolves when the peer acknowledged a matching SHA-256 (blob-transfer.ts). */
  sendBlob(
    peerId: string,
    bytes: Uint8Array | ArrayBuffer,
    options: { label?: string; timeoutMs?: number } = {},
  ): Promise<BlobReceipt> {
    const { requestTimeoutMs, nowMs } = this.options;
    return sendBlobVia(
      (message, attachment, timeoutMs) => this.request(peerId, message, { attachment, timeoutMs }),
      peerId,
      bytes,
      { ...options, id: randomMessageId(), requestTimeoutMs, nowMs },
    );
  }

  /** TEST ONLY (needs enableDebug, the ?test=1 hook): unchecked traffic, see debug-send.ts. */
  async debugSendRaw(peerId: string, frameOrMessage: unknown, attachment?: Uint8Array): Promise<void> {
    if (!this.options.enableDebug)
      throw new MeshError("debug_disabled", "debugSendRaw needs enableDebug (the ?test=1 hook)");
    await debugSend(this.openLink(peerId), frameOrMessage, attachment);
  }

  /** Re-registers with the signaling server now, if the transport lost it (new directory session). */
  reconnectSignaling(): void {
    if (!this.closed) this.transport.reconnect();
  }

  /** Closes one link (it is redialed later if this side dials and the peer is still in the directory). */
  disconnect(peerId: string, reason = "closed locally"): void {
    this.links.get(peerId)?.close(reason);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tick !== null) clearInterval(this.tick);
    if (this.statsTimer !== null) clearTimeout(this.statsTimer);
    this.redials.clear();
    this.admission.close();
    for (const link of [...this.links.values()]) link.close("mesh closed");
    this.pending.rejectAll(new MeshError("closed", "mesh closed"));
    this.transport.close();
    this.emitter.emit("status", { status: "closed", detail: null });
    this.emitter.clear();
  }

  /** Any message but a ping or pong marks the link as in use. */
  private touch(peerId: string, type: PeerMessage["type"]): void {
    if (type !== "ping" && type !== "pong") this.dialing.demand.touch(peerId, this.options.nowMs());
  }

  private openLink(peerId: string): PeerLink {
    if (this.closed) throw new MeshError("closed", "mesh closed");
    const link = this.links.get(peerId);
    if (!link || link.state !== "open") throw new MeshError("not_connected", `no open link to ${peerId}`);
    return link;
  }

  /**
   * Dials the peers this side is responsible for (mesh-dialing.ts), best first, while link slots are free.
   * The others stay in `known`: they are dialed as slots free up (a link closes, on every tick).
   */
  private fillLinks(): void {
    if (this.closed || this.tick === null) return;
    if (this.admission.freeSlots <= 0) return;
    const skip = (peerId: string): boolean =>
      this.links.has(peerId) || this.redials.isWaiting(peerId) || this.admission.isPenalized(peerId);
    for (const peer of this.dialing.candidates(this.known.values(), skip, this.options.peerPreference)) {
      // Read afresh each time, not counted down: a dial that fails at once closes its link, and that
      // close fills slots itself (re-entrantly); a stale count would then dial past maxLinks.
      if (this.admission.freeSlots <= 0) break;
      this.addLink(this.transport.dial(peer.peerId));
    }
  }

  private onIncoming(transport: LinkTransport): void {
    if (
      this.closed ||
      !PEER_ID_PATTERN.test(transport.remotePeerId) ||
      transport.remotePeerId === this.peerId
    ) {
      transport.close();
      return;
    }
    this.admission.offer(transport);
  }

  /** An incoming link the admission let in (a known peer, a free slot). */
  private admitIncoming(transport: LinkTransport): void {
    const existing = this.links.get(transport.remotePeerId);
    if (this.dialing.refuseIncoming(transport.remotePeerId, existing && dialedLink(existing))) {
      transport.close();
      return;
    }
    // A second connection from the same peer means it reloaded (or both dialed): the newest one wins. It
    // takes the old one's slot before the old one closes: closed first, the freed slot would be filled by a
    // dial to someone else (onLinkClosed), and the new link would then be one past maxLinks.
    this.addLink(transport);
    existing?.close("replaced by a newer connection");
  }

  private onAdmissionRefused(peerId: string, code: AdmissionRefusal, detail: string): void {
    this.tally.admissionRefused(code);
    this.emitter.emit("rejected", { peerId, kind: "refused", code, detail });
    this.statsChanged();
  }

  private addLink(transport: LinkTransport): void {
    const expectedKey = this.known.get(transport.remotePeerId)?.publicKey ?? null;
    const link = new PeerLink(transport, this.identity, expectedKey, this.linkHooks, {
      limits: this.options.limits,
      backpressure: this.options.backpressure,
      connectTimeoutMs: this.options.connectTimeoutMs,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      maxInvalidMessages: this.options.maxInvalidPerLink,
      rateLimits: this.options.rateLimits,
      memory: this.memory.account(),
      nowMs: this.options.nowMs,
    });
    this.links.set(link.peerId, link);
    this.tally.linkAdded(this.links.size);
    this.statsChanged();
  }

  private onAuthenticated(link: PeerLink): void {
    this.tally.totals.handshakesCompleted++;
    this.redials.reset(link.peerId);
    this.dialing.demand.touch(link.peerId, this.options.nowMs());
    this.emitter.emit("peer-open", {
      peerId: link.peerId,
      publicKey: link.publicKey!,
      dialer: link.transport.dialer,
    });
    this.statsChanged();
    this.ping(link.peerId).catch(() => undefined);
  }

  private onLinkClosed(link: PeerLink, reason: string, previous: LinkState): void {
    this.tally.linkClosed(link.stats, previous, link.closedForFlooding);
    if (link.closedForFlooding) this.admission.penalize(link.peerId);
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    this.pending.rejectPeer(
      link.peerId,
      new MeshError("peer_closed", `link to ${link.peerId} closed: ${reason}`),
    );
    this.emitter.emit("peer-close", { peerId: link.peerId, reason, previous });
    this.statsChanged();
    if (this.closed || this.links.has(link.peerId)) return;
    this.scheduleRedial(link.peerId, previous === "open");
    // The slot it held may go to the next candidate.
    this.fillLinks();
  }

  private scheduleRedial(peerId: string, afterOpenLink: boolean): void {
    if (!this.dialing.mayDial(peerId) || !this.known.has(peerId)) return;
    if (this.admission.isPenalized(peerId)) return;
    this.redials.schedule(peerId, afterOpenLink, () => this.fillLinks());
  }

  private onRejected(peerId: string, rejection: Rejection): void {
    this.tally.rejection(rejection);
    this.emitter.emit("rejected", { peerId, ...rejection });
    this.statsChanged();
  }

  /** Tells listeners counters changed, at most once per STATS_COALESCE_MS. */
  private statsChanged(): void {
    if (this.statsTimer !== null || this.closed) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = null;
      if (!this.closed) this.emitter.emit("stats", null);
    }, STATS_COALESCE_MS);
  }

  private onTick(): void {
    const now = this.options.nowMs();
    keepAlive([...this.links.values()], now, this.options.idleTimeoutMs, (peerId) => {
      this.ping(peerId, this.options.pingIntervalMs).catch(() => undefined);
    });
    for (const peerId of this.dialing.unused([...this.links.values()].map(dialedLink), now)) {
      this.links.get(peerId)?.close(this.dialing.unusedReason);
    }
    this.fillLinks();
  }
}
