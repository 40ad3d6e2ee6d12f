import { Peer, type DataConnection, type PeerError } from "peerjs";
import type { SendChannel } from "./backpressure.ts";
import { fingerprintFromSdp, type ChannelFingerprints } from "./handshake.ts";
import { TransportError, type LinkTransport, type MeshTransport, type TransportStatus } from "./transport.ts";

/** An ICE server entry (RTCIceServer, spelled out so this compiles without the DOM lib). */
export interface IceServer {
  urls: string | string[];
  username?: string | undefined;
  credential?: string | undefined;
}

export interface PeerJsTransportOptions {
  peerId: string;
  host: string;
  port: number;
  secure: boolean;
  /** Where the PeerServer is mounted on the signaling server. */
  path?: string;
  key?: string;
  /**
   * The directory session token: the server accepts a PeerJS registration for our id only with it. Read
   * again on every reconnect, because a directory reconnect issues a new one.
   */
  getToken(): string | null;
  /** From GET /api/v1/config; empty on localhost (host candidates suffice). Never public STUN by default. */
  iceServers: readonly IceServer[];
  /** First delay before re-registering after losing the signaling socket; doubles up to 30 s. */
  reconnectDelayMs?: number;
}

/** PeerJS errors after which the Peer is gone for good (everything else is per-connection or transient). */
const FATAL_ERRORS = new Set([
  "browser-incompatible",
  "invalid-id",
  "invalid-key",
  "ssl-unavailable",
  "unavailable-id",
]);

/** The browser's WebRTC through PeerJS, with binary ("raw") reliable data channels. */
export class PeerJsTransport implements MeshTransport {
  readonly localPeerId: string;
  private peer: Peer | null = null;
  private readonly statusListeners: ((status: TransportStatus, detail: string | null) => void)[] = [];
  private readonly connectionListeners: ((link: LinkTransport) => void)[] = [];
  private readonly dialed = new Map<string, PeerJsLink>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectAttempts = 0;
  private closed = false;

  constructor(private readonly options: PeerJsTransportOptions) {
    this.localPeerId = options.peerId;
  }

  start(): Promise<void> {
    if (this.peer) return Promise.reject(new TransportError("closed", "transport already started"));
    const token = this.options.getToken();
    if (!token)
      return Promise.reject(new TransportError("signaling_failed", "no directory session token yet"));
    const peer = new Peer(this.options.peerId, {
      host: this.options.host,
      port: this.options.port,
      path: this.options.path ?? "/peerjs",
      key: this.options.key ?? "peerjs",
      token,
      secure: this.options.secure,
      config: { iceServers: this.options.iceServers.map((s) => ({ ...s })) },
      debug: 0,
    });
    this.peer = peer;
    this.setStatus("connecting", null);
    peer.on("connection", (conn) => {
      if (conn.serialization !== "raw") {
        // Other serializations would hand us decoded objects instead of our frames.
        conn.close();
        return;
      }
      const link = new PeerJsLink(conn, false);
      for (const listener of this.connectionListeners) listener(link);
    });
    peer.on("disconnected", () => {
      if (this.closed) return;
      this.setStatus("disconnected", "lost the signaling server");
      this.scheduleReconnect();
    });
    peer.on("close", () => this.setStatus("closed", null));
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      peer.on("open", () => {
        this.reconnectAttempts = 0;
        this.setStatus("open", null);
        if (!opened) {
          opened = true;
          resolve();
        }
      });
      peer.on("error", (error: PeerError<string>) => {
        if (error.type === "peer-unavailable") {
          // "Could not connect to peer <id>": fail that dial now instead of at its connect timeout.
          const target = /peer (\S+)$/.exec(error.message)?.[1];
          if (target) this.dialed.get(target)?.fail("peer unavailable");
          return;
        }
        if (!opened) {
          opened = true;
          const code =
            error.type === "unavailable-id" || error.type === "invalid-id"
              ? "id_rejected"
              : "signaling_failed";
          reject(new TransportError(code, `PeerJS ${error.type}: ${error.message}`));
          peer.destroy();
          return;
        }
        if (FATAL_ERRORS.has(error.type)) {
          this.setStatus("closed", `PeerJS ${error.type}: ${error.message}`);
          peer.destroy();
        }
      });
    });
  }

  dial(remotePeerId: string): LinkTransport {
    const peer = this.peer;
    const conn =
      peer && !peer.destroyed && !peer.disconnected
        ? peer.connect(remotePeerId, { serialization: "raw", reliable: true })
        : undefined;
    const link = new PeerJsLink(conn ?? null, true, remotePeerId);
    this.dialed.set(remotePeerId, link);
    link.onClose(() => {
      if (this.dialed.get(remotePeerId) === link) this.dialed.delete(remotePeerId);
    });
    if (!conn) queueMicrotask(() => link.fail("not registered with the signaling server"));
    return link;
  }

  onConnection(listener: (link: LinkTransport) => void): void {
    this.connectionListeners.push(listener);
  }

  onStatus(listener: (status: TransportStatus, detail: string | null) => void): void {
    this.statusListeners.push(listener);
  }

  reconnect(): void {
    const peer = this.peer;
    if (this.closed || !peer || peer.destroyed || !peer.disconnected) return;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.reconnectAttempts = 0;
    this.reconnectWithFreshToken(peer);
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.peer?.destroy();
  }

  private setStatus(status: TransportStatus, detail: string | null): void {
    for (const listener of this.statusListeners) listener(status, detail);
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== null || this.closed) return;
    const delayMs = Math.min(
      30_000,
      (this.options.reconnectDelayMs ?? 1_000) * 2 ** this.reconnectAttempts++,
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      const peer = this.peer;
      if (!peer || peer.destroyed || !peer.disconnected || this.closed) return;
      this.reconnectWithFreshToken(peer);
    }, delayMs);
  }

  private reconnectWithFreshToken(peer: Peer): void {
    const token = this.options.getToken();
    if (!token) {
      // The directory is reconnecting too; Swarm calls reconnect() as soon as it has a new session.
      this.scheduleReconnect();
      return;
    }
    peer.options.token = token;
    this.setStatus("connecting", null);
    peer.reconnect();
  }
}

/** One PeerJS DataConnection as a LinkTransport. */
class PeerJsLink implements LinkTransport {
  readonly remotePeerId: string;
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private closedReason: string | null = null;

  constructor(
    private readonly conn: DataConnection | null,
    readonly dialer: boolean,
    remotePeerId?: string,
  ) {
    this.remotePeerId = conn?.peer ?? remotePeerId ?? "";
    if (!conn) return;
    conn.on("close", () => this.fail("connection closed"));
    conn.on("error", (error) => this.fail(`connection error: ${error.type}`));
    conn.on("iceStateChanged", (state) => {
      if (state === "failed" || state === "closed") this.fail(`ICE ${state}`);
    });
  }

  get channel(): SendChannel | null {
    const dc = this.conn?.dataChannel;
    return this.closedReason === null && dc && dc.readyState === "open" ? (dc as SendChannel) : null;
  }

  fingerprints(): ChannelFingerprints {
    const pc = this.conn?.peerConnection;
    return {
      local: fingerprintFromSdp(pc?.localDescription?.sdp),
      remote: fingerprintFromSdp(pc?.remoteDescription?.sdp),
    };
  }

  onOpen(listener: () => void): void {
    this.conn?.on("open", listener);
  }

  onData(listener: (data: unknown) => void): void {
    this.conn?.on("data", listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    this.fail("closed locally");
  }

  fail(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    try {
      this.conn?.close();
    } catch {
      // PeerJS can throw when closing a half-negotiated connection; it is being abandoned either way.
    }
    for (const listener of this.closeListeners) listener(reason);
  }
}
