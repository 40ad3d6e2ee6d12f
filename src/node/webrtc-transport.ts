import { WebSocket } from "ws";
import type { PeerJsTransportOptions } from "../core/net/peerjs-transport.ts";
import {
  TransportError,
  type LinkTransport,
  type MeshTransport,
  type TransportStatus,
} from "../core/net/transport.ts";
import { parseSignal, type SignalMessage } from "./peerjs-signal.ts";
import { SignalGuard, type SignalGuardLimits, type SignalGuardSnapshot } from "./signal-guard.ts";
import { NodeLink, type NodeLinkHost } from "./webrtc-link.ts";

/**
 * The mesh's transport in Node: libwebrtc (@roamhq/wrtc, the WebRTC stack Chromium ships) for the data
 * channels, and the PeerServer's own signaling protocol spoken over `ws`. PeerJS itself needs `window` and
 * `navigator`; speaking its wire protocol instead means a browser tab dialing a Node peer (and back) sees
 * an ordinary PeerJS peer: OFFER/ANSWER/CANDIDATE with `serialization: "raw"`, `reliable: true`, and the
 * data channel labelled with the connection id. Why libwebrtc: see docs/ARCHITECTURE.md (Node peers).
 * What any peer may send us through the relay is bounded by a SignalGuard (signal-guard.ts).
 */

const HEARTBEAT_MS = 5_000;
/** PeerJS's version string the PeerServer logs; the server accepts any. */
const PEERJS_VERSION = "1.5.5";

function randomConnectionId(): string {
  return `dc_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

export interface NodeTransportOptions extends PeerJsTransportOptions {
  /** Caps on what remote peers may make us hold (defaults: DEFAULT_SIGNAL_LIMITS). */
  readonly signalLimits?: Partial<SignalGuardLimits>;
}

export class NodeWebRtcTransport implements MeshTransport, NodeLinkHost {
  readonly localPeerId: string;
  private socket: WebSocket | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private readonly links = new Map<string, NodeLink>();
  private readonly statusListeners: ((status: TransportStatus, detail: string | null) => void)[] = [];
  private readonly connectionListeners: ((link: LinkTransport) => void)[] = [];
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectAttempts = 0;
  private closed = false;
  /** @internal Admission of what remote peers send; every drop is counted there, by cause. */
  readonly guard: SignalGuard;

  constructor(private readonly options: NodeTransportOptions) {
    this.localPeerId = options.peerId;
    this.guard = new SignalGuard(options.signalLimits);
  }

  /** Peer connections held now, negotiating or open (each is native memory, threads and sockets). */
  get linkCount(): number {
    return this.links.size;
  }

  /** Signaling rejections by cause, and what the caps hold now and held at most. */
  signaling(): SignalGuardSnapshot {
    return this.guard.snapshot();
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
        if (!message) return this.guard.count("badSignal");
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
    if (!src || !connectionId) return this.guard.count("noConnectionId");
    const existing = this.links.get(connectionId);
    if (existing) {
      if (existing.remotePeerId !== src) return this.guard.count("wrongSource");
      existing.handleSignal(message);
      return;
    }
    if (message.type !== "OFFER") return this.guard.count("unknownConnection");
    const payload = message.payload;
    if (payload?.type !== "data" || payload.serialization !== "raw") {
      // Other serializations would hand us decoded objects instead of our frames (as peerjs-transport.ts).
      return this.guard.count("notRaw");
    }
    if (payload.sdp?.type !== "offer") return this.guard.count("badSignal");
    // Checked before anything is allocated: an admitted offer costs a native peer connection.
    if (this.guard.checkOffer(src, payload.sdp.sdp.length) !== "admit") return;
    const link = new NodeLink(this, src, connectionId, false);
    this.track(link);
    this.guard.admitted(link);
    for (const listener of this.connectionListeners) listener(link);
    link.handleSignal(message);
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
