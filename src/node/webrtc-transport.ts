import wrtc from "@roamhq/wrtc";
import { WebSocket } from "ws";
import type { SendChannel } from "../core/net/backpressure.ts";
import { fingerprintFromSdp, type ChannelFingerprints } from "../core/net/handshake.ts";
import type { PeerJsTransportOptions } from "../core/net/peerjs-transport.ts";
import {
  TransportError,
  type LinkTransport,
  type MeshTransport,
  type TransportStatus,
} from "../core/net/transport.ts";
import { parseSignal, type SignalMessage } from "./peerjs-signal.ts";

/**
 * The mesh's transport in Node: libwebrtc (@roamhq/wrtc, the WebRTC stack Chromium ships) for the data
 * channels, and the PeerServer's own signaling protocol spoken over `ws`. PeerJS itself needs `window` and
 * `navigator`; speaking its wire protocol instead means a browser tab dialing a Node peer (and back) sees
 * an ordinary PeerJS peer: OFFER/ANSWER/CANDIDATE with `serialization: "raw"`, `reliable: true`, and the
 * data channel labelled with the connection id. Why libwebrtc: see docs/ARCHITECTURE.md (Node peers).
 */

const HEARTBEAT_MS = 5_000;
/** PeerJS's version string the PeerServer logs; the server accepts any. */
const PEERJS_VERSION = "1.5.5";
/** A dial whose channel is not open by then is abandoned (PeerJS has no such timeout; the mesh has one too). */
const CONNECT_TIMEOUT_MS = 30_000;
/** Signaling messages for one connection kept before its offer arrives (a flood must not grow memory). */
const MAX_EARLY_MESSAGES = 64;

type WrtcPeerConnection = InstanceType<typeof wrtc.RTCPeerConnection>;
type WrtcDataChannel = ReturnType<WrtcPeerConnection["createDataChannel"]>;

function randomConnectionId(): string {
  return `dc_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

export class NodeWebRtcTransport implements MeshTransport {
  readonly localPeerId: string;
  private socket: WebSocket | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private readonly links = new Map<string, NodeLink>();
  private readonly statusListeners: ((status: TransportStatus, detail: string | null) => void)[] = [];
  private readonly connectionListeners: ((link: LinkTransport) => void)[] = [];
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectAttempts = 0;
  private closed = false;
  /** Rejections counted by cause (bad signaling JSON, unknown connection, ...): every drop is counted. */
  readonly rejected = new Map<string, number>();

  constructor(private readonly options: PeerJsTransportOptions) {
    this.localPeerId = options.peerId;
  }

  start(): Promise<void> {
    if (this.socket) return Promise.reject(new TransportError("closed", "transport already started"));
    return this.open();
  }

  dial(remotePeerId: string): LinkTransport {
    const connectionId = randomConnectionId();
    const link = new NodeLink(this, remotePeerId, connectionId, true);
    this.track(link);
    if (!this.registered()) {
      queueMicrotask(() => link.fail("not registered with the signaling server"));
      return link;
    }
    link.startAsDialer();
    return link;
  }

  onConnection(listener: (link: LinkTransport) => void): void {
    this.connectionListeners.push(listener);
  }

  onStatus(listener: (status: TransportStatus, detail: string | null) => void): void {
    this.statusListeners.push(listener);
  }

  reconnect(): void {
    if (this.closed || this.registered() || this.socket?.readyState === WebSocket.CONNECTING) return;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.reconnectAttempts = 0;
    this.open().catch(() => this.scheduleReconnect());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    for (const link of [...this.links.values()]) link.fail("transport closed");
    this.dropSocket();
    this.setStatus("closed", null);
  }

  /** @internal A link's signaling message to its remote peer. */
  sendSignal(message: SignalMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** @internal */
  get iceServers(): PeerJsTransportOptions["iceServers"] {
    return this.options.iceServers;
  }

  /** @internal */
  untrack(link: NodeLink): void {
    if (this.links.get(link.connectionId) === link) this.links.delete(link.connectionId);
  }

  private track(link: NodeLink): void {
    this.links.set(link.connectionId, link);
  }

  private registered(): boolean {
    return this.socket?.readyState === WebSocket.OPEN && this.openSeen;
  }

  private openSeen = false;

  private open(): Promise<void> {
    const token = this.options.getToken();
    if (!token) {
      return Promise.reject(new TransportError("signaling_failed", "no directory session token yet"));
    }
    const { host, port, secure, path = "/peerjs", key = "peerjs" } = this.options;
    const base = `${secure ? "wss" : "ws"}://${host}:${port}${path.endsWith("/") ? path : `${path}/`}`;
    const query = new URLSearchParams({ key, id: this.localPeerId, token, version: PEERJS_VERSION });
    const socket = new WebSocket(`${base}peerjs?${query.toString()}`);
    this.socket = socket;
    this.openSeen = false;
    this.setStatus("connecting", null);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error: TransportError | null): void => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
      socket.on("message", (raw: Buffer) => {
        const message = parseSignal(raw.toString("utf8"));
        if (!message) return this.count("bad_signal");
        if (message.type === "OPEN") {
          this.openSeen = true;
          this.reconnectAttempts = 0;
          this.setStatus("open", null);
          settle(null);
        } else if (message.type === "ID-TAKEN" || message.type === "INVALID-KEY") {
          settle(new TransportError("id_rejected", `PeerServer ${message.type}`));
          socket.close();
        } else if (message.type === "ERROR") {
          settle(new TransportError("signaling_failed", `PeerServer error: ${message.payload?.msg ?? ""}`));
        } else {
          this.route(message);
        }
      });
      socket.on("error", (error) => settle(new TransportError("signaling_failed", error.message)));
      socket.on("close", (code) => {
        settle(new TransportError("signaling_failed", `PeerServer socket closed (${code})`));
        if (this.socket !== socket) return;
        this.dropSocket();
        if (this.closed) return;
        this.setStatus("disconnected", "lost the signaling server");
        this.scheduleReconnect();
      });
      this.heartbeat = setInterval(() => this.sendSignal({ type: "HEARTBEAT" }), HEARTBEAT_MS);
    });
  }

  /** A message from another peer through the server: to the link it names, or a new incoming link. */
  private route(message: SignalMessage): void {
    const src = message.src;
    const connectionId = message.payload?.connectionId;
    if (message.type === "EXPIRE") {
      // "Could not connect to peer": fail dials to it now rather than at their timeout.
      for (const link of this.links.values()) {
        if (link.dialer && link.remotePeerId === src) link.fail("peer unavailable");
      }
      return;
    }
    if (message.type === "LEAVE") {
      for (const link of this.links.values()) if (link.remotePeerId === src) link.fail("peer left");
      return;
    }
    if (!src || !connectionId) return this.count("no_connection_id");
    const existing = this.links.get(connectionId);
    if (existing) {
      if (existing.remotePeerId !== src) return this.count("wrong_source");
      existing.handleSignal(message);
      return;
    }
    if (message.type !== "OFFER") return this.count("unknown_connection");
    const payload = message.payload;
    if (payload?.type !== "data" || payload.serialization !== "raw") {
      // Other serializations would hand us decoded objects instead of our frames (as peerjs-transport.ts).
      return this.count("not_raw");
    }
    const link = new NodeLink(this, src, connectionId, false);
    this.track(link);
    for (const listener of this.connectionListeners) listener(link);
    link.handleSignal(message);
  }

  /** @internal */
  count(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  private dropSocket(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    const socket = this.socket;
    this.socket = null;
    this.openSeen = false;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== null || this.closed) return;
    const delayMs = Math.min(
      30_000,
      (this.options.reconnectDelayMs ?? 1_000) * 2 ** this.reconnectAttempts++,
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closed || this.socket) return;
      // Without a token the directory is reconnecting too; Swarm calls reconnect() once it has a session.
      if (!this.options.getToken()) return this.scheduleReconnect();
      this.open().catch(() => this.scheduleReconnect());
    }, delayMs);
  }

  private setStatus(status: TransportStatus, detail: string | null): void {
    for (const listener of this.statusListeners) listener(status, detail);
  }
}

/** One RTCPeerConnection with one reliable, ordered data channel: a LinkTransport. */
class NodeLink implements LinkTransport {
  private readonly pc: WrtcPeerConnection;
  private dc: WrtcDataChannel | null = null;
  private readonly openListeners: (() => void)[] = [];
  private readonly dataListeners: ((data: unknown) => void)[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private closedReason: string | null = null;
  private remoteDescribed = false;
  private readonly earlyCandidates: unknown[] = [];
  private readonly timeout: ReturnType<typeof setTimeout>;

  constructor(
    private readonly transport: NodeWebRtcTransport,
    readonly remotePeerId: string,
    readonly connectionId: string,
    readonly dialer: boolean,
  ) {
    const iceServers = transport.iceServers.map(({ urls, username, credential }) => ({
      urls,
      ...(username !== undefined ? { username } : {}),
      ...(credential !== undefined ? { credential } : {}),
    }));
    this.pc = new wrtc.RTCPeerConnection({ iceServers });
    this.pc.onicecandidate = (event) => {
      if (!event.candidate?.candidate) return;
      this.signal("CANDIDATE", { candidate: event.candidate.toJSON() });
    };
    this.pc.oniceconnectionstatechange = () => {
      const state = this.pc.iceConnectionState;
      if (state === "failed" || state === "closed") this.fail(`ICE ${state}`);
    };
    this.pc.ondatachannel = (event) => this.attach(event.channel);
    this.timeout = setTimeout(() => {
      if (this.channel === null) this.fail("connect timeout");
    }, CONNECT_TIMEOUT_MS);
  }

  get channel(): SendChannel | null {
    const dc = this.dc;
    return this.closedReason === null && dc?.readyState === "open" ? (dc as unknown as SendChannel) : null;
  }

  fingerprints(): ChannelFingerprints {
    return {
      local: fingerprintFromSdp(this.pc.localDescription?.sdp),
      remote: fingerprintFromSdp(this.pc.remoteDescription?.sdp),
    };
  }

  onOpen(listener: () => void): void {
    this.openListeners.push(listener);
  }

  onData(listener: (data: unknown) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    this.fail("closed locally");
  }

  startAsDialer(): void {
    this.attach(this.pc.createDataChannel(this.connectionId, { ordered: true }));
    void this.run(async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      this.signal("OFFER", {
        sdp: { type: "offer", sdp: offer.sdp },
        label: this.connectionId,
        reliable: true,
        serialization: "raw",
        metadata: null,
      });
    });
  }

  handleSignal(message: SignalMessage): void {
    const payload = message.payload;
    if (!payload) return;
    if (message.type === "OFFER" && !this.dialer && payload.sdp) {
      const sdp = payload.sdp;
      void this.run(async () => {
        await this.pc.setRemoteDescription({ type: "offer", sdp: sdp.sdp });
        await this.remoteSet();
        const answer = await this.pc.createAnswer();
        await this.pc.setLocalDescription(answer);
        this.signal("ANSWER", { sdp: { type: "answer", sdp: answer.sdp } });
      });
    } else if (message.type === "ANSWER" && this.dialer && payload.sdp && !this.remoteDescribed) {
      const sdp = payload.sdp;
      void this.run(async () => {
        await this.pc.setRemoteDescription({ type: "answer", sdp: sdp.sdp });
        await this.remoteSet();
      });
    } else if (message.type === "CANDIDATE" && payload.candidate) {
      if (!this.remoteDescribed) {
        if (this.earlyCandidates.length < MAX_EARLY_MESSAGES) this.earlyCandidates.push(payload.candidate);
        else this.transport.count("candidate_flood");
        return;
      }
      void this.addCandidate(payload.candidate);
    } else {
      this.transport.count("unexpected_signal");
    }
  }

  fail(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    clearTimeout(this.timeout);
    this.transport.untrack(this);
    try {
      this.dc?.close();
      this.pc.close();
    } catch {
      // Closing a half-negotiated connection can throw; it is being abandoned either way.
    }
    for (const listener of this.closeListeners) listener(reason);
  }

  private attach(dc: WrtcDataChannel): void {
    if (this.dc !== null || this.closedReason !== null) return void dc.close();
    this.dc = dc;
    dc.binaryType = "arraybuffer";
    dc.onopen = () => {
      clearTimeout(this.timeout);
      for (const listener of this.openListeners) listener();
    };
    dc.onmessage = (event: { data: unknown }) => {
      for (const listener of this.dataListeners) listener(event.data);
    };
    dc.onclose = () => this.fail("connection closed");
  }

  private async remoteSet(): Promise<void> {
    this.remoteDescribed = true;
    for (const candidate of this.earlyCandidates.splice(0)) await this.addCandidate(candidate);
  }

  private async addCandidate(candidate: unknown): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate as ConstructorParameters<typeof wrtc.RTCIceCandidate>[0]);
    } catch {
      this.transport.count("bad_candidate");
    }
  }

  private signal(type: "OFFER" | "ANSWER" | "CANDIDATE", payload: Record<string, unknown>): void {
    this.transport.sendSignal({
      type,
      dst: this.remotePeerId,
      payload: { ...payload, type: "data", connectionId: this.connectionId },
    });
  }

  /** Negotiation steps: a failure (bad SDP from the remote, say) closes this link, nothing else. */
  private async run(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.transport.count("negotiation_failed");
      this.fail(`negotiation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
