import type { Identity } from "../identity/identity.ts";
import { toBase64Url } from "../base/encoding.ts";
import type { Capabilities } from "../protocol/capabilities.ts";
import {
  DIRECTORY_CLOSE_CODES,
  DIRECTORY_PROTOCOL_VERSION,
  decodeDirectoryServerFrame,
  joinChallengeBytes,
  type DirectoryClientMessage,
  type DirectoryErrorCode,
  type DirectoryPeer,
  type DirectoryServerMessage,
} from "../protocol/directory.ts";
import { CodedError } from "../base/coded-error.ts";
import type { PeerFilter, Watch } from "../protocol/directory-query.ts";
import {
  DirectoryQueryError,
  PendingQueries,
  type QueryResult,
  type WatchChange,
} from "./directory-queries.ts";
import { detach, type WebSocketConstructor, type WebSocketLike } from "./directory-socket.ts";

export { directoryUrlFor, type WebSocketConstructor, type WebSocketLike } from "./directory-socket.ts";

/**
 * Client of the signaling server's directory: proves this peer's identity, keeps the list of online peers
 * current, and holds the session token PeerJS needs. Runs in a tab, a worker or Node: the WebSocket
 * constructor is a parameter (Node 20 has no stable global WebSocket; pass the `ws` package's).
 */

export type DirectoryStatus = "connecting" | "connected" | "disconnected";

export interface DirectoryClientOptions {
  url: string;
  identity: Identity;
  capabilities: Capabilities;
  WebSocketImpl?: WebSocketConstructor;
  /** Reconnect after a lost connection, with capped exponential backoff and jitter. Default true. */
  reconnect?: boolean;
  reconnectMinDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** How often to send an application-level ping; no answer within 2 intervals means a dead connection. */
  pingIntervalMs?: number;
  /**
   * The server tells a peer about a sample of the swarm. When this peer knows fewer than this many while
   * more are online (its acquaintances left), it asks for more, at most once per `peerRequestIntervalMs`.
   * Default 8.
   */
  minKnownPeers?: number;
  /** Default 10 s (the server refuses requests closer than its own interval, 5 s by default). */
  peerRequestIntervalMs?: number;
}

export type DirectoryClientErrorCode = DirectoryErrorCode | "transport" | "closed" | "no_websocket";

export class DirectoryClientError extends CodedError<DirectoryClientErrorCode> {
  override readonly name = "DirectoryClientError";
}

/** Errors after which retrying with the same identity cannot succeed (or would fight another tab). */
const FATAL_ERROR_CODES: ReadonlySet<DirectoryErrorCode> = new Set([
  "bad_signature",
  "id_mismatch",
  "session_replaced",
  "invalid_message",
  "banned",
]);
const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  DIRECTORY_CLOSE_CODES.authFailed,
  DIRECTORY_CLOSE_CODES.banned,
  DIRECTORY_CLOSE_CODES.replaced,
]);
const CLIENT_HEARTBEAT_CLOSE_CODE = 4000;

interface Pending {
  resolve: () => void;
  reject: (error: DirectoryClientError) => void;
}

export class DirectoryClient {
  readonly stats = { sent: 0, received: 0, ignored: 0 };

  private readonly options: DirectoryClientOptions;
  private capabilities: Capabilities;
  private socket: WebSocketLike | null = null;
  private status: DirectoryStatus = "disconnected";
  private token: string | null = null;
  private selfPeer: DirectoryPeer | null = null;
  private readonly peerMap = new Map<string, DirectoryPeer>();
  private peerSnapshot: readonly DirectoryPeer[] = [];
  private othersOnline = 0;
  private lastPeerRequestAtMs = Number.NEGATIVE_INFINITY;
  private readonly peerListeners = new Set<(peers: readonly DirectoryPeer[]) => void>();
  private readonly statusListeners = new Set<(status: DirectoryStatus) => void>();
  private pending: Pending[] = [];
  private readonly queries = new PendingQueries();
  private readonly watchListeners = new Set<(change: WatchChange) => void>();
  private closedByUser = false;
  private fatalError: DirectoryClientError | null = null;
  private lastServerError: DirectoryClientError | null = null;
  private reconnectAttempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastReceivedAtMs = 0;
  private pingSentAtMs: number | null = null;

  constructor(options: DirectoryClientOptions) {
    this.options = options;
    this.capabilities = options.capabilities;
  }

  /** The PeerJS token of the current session (register the PeerJS id with it); null when not connected. */
  get sessionToken(): string | null {
    return this.token;
  }

  /** This peer as the server recorded it in the current session. */
  get self(): DirectoryPeer | null {
    return this.selfPeer;
  }

  /**
   * Online peers except self that the server told this peer about, as of the last server message: everyone
   * in a small swarm, a bounded sample in a big one. Kept (stale) while reconnecting.
   */
  get peers(): readonly DirectoryPeer[] {
    return this.peerSnapshot;
  }

  /** How many other peers are online as the server counts them (at least `peers.length` once connected). */
  get totalPeers(): number {
    return Math.max(this.othersOnline, this.peerSnapshot.length);
  }

  get currentStatus(): DirectoryStatus {
    return this.status;
  }

  /** Resolves after the server's welcome; rejects on a fatal error (bad key, replaced) or close(). */
  connect(): Promise<void> {
    if (this.closedByUser) return Promise.reject(new DirectoryClientError("closed", "client was closed"));
    if (this.fatalError) return Promise.reject(this.fatalError);
    if (this.status === "connected") return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
    if (this.socket === null && this.reconnectTimer === null) this.openSocket();
    return promise;
  }

  /** Called when the known peers or the online total change. */
  onPeers(listener: (peers: readonly DirectoryPeer[]) => void): () => void {
    this.peerListeners.add(listener);
    return () => this.peerListeners.delete(listener);
  }

  onStatus(listener: (status: DirectoryStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Announces new capabilities now if connected, and uses them for every later join. */
  updateCapabilities(capabilities: Capabilities): void {
    this.capabilities = capabilities;
    if (this.status === "connected") {
      this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "update-capabilities", capabilities });
    }
  }

  /** Asks the server for peers this one does not know yet (answered by `peers-sample`). */
  requestMorePeers(): void {
    if (this.status !== "connected") return;
    this.lastPeerRequestAtMs = Date.now();
    this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "request-peers" });
  }

  /**
   * Asks the server for up to `k` online peers matching `filter`. They (and this peer, in turn) become
   * known to each other, so a link between them is admitted: the way a requester picks its volunteers.
   */
  async query(filter: PeerFilter, k: number, timeoutMs = 10_000): Promise<QueryResult> {
    const answer = await this.ask(timeoutMs, (id) => ({
      v: DIRECTORY_PROTOCOL_VERSION,
      type: "query",
      id,
      filter,
      k,
    }));
    if (answer.kind !== "query") throw new DirectoryQueryError("invalid_message", "unexpected answer");
    return answer.value;
  }

  /**
   * Subscribes to joins and leaves of a filter's peers or of given ids (`onWatch` reports them under the
   * returned id); resolves with the watched peers online now (given ids: known from now on, like a
   * query's). Subscriptions end with the session.
   */
  async subscribe(
    watch: Watch,
    timeoutMs = 10_000,
  ): Promise<{ id: string; online: readonly DirectoryPeer[] }> {
    let subscriptionId = "";
    const answer = await this.ask(timeoutMs, (id) => {
      subscriptionId = id;
      return { v: DIRECTORY_PROTOCOL_VERSION, type: "subscribe", id, watch };
    });
    if (answer.kind !== "subscribed") throw new DirectoryQueryError("invalid_message", "unexpected answer");
    if (watch.kind === "peers") {
      this.addPeers(answer.value); // the server acquainted us: the mesh may link with them
      this.publishPeers();
    }
    return { id: subscriptionId, online: answer.value };
  }

  unsubscribe(id: string): void {
    this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "unsubscribe", id });
  }

  onWatch(listener: (change: WatchChange) => void): () => void {
    this.watchListeners.add(listener);
    return () => this.watchListeners.delete(listener);
  }

  close(): void {
    if (this.closedByUser) return;
    this.closedByUser = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      socket.close(DIRECTORY_CLOSE_CODES.normal, "client closed");
    }
    this.token = null;
    this.peerMap.clear();
    this.publishPeers();
    this.setStatus("disconnected");
    this.settle(new DirectoryClientError("closed", "client was closed"));
  }

  private openSocket(): void {
    const Impl = this.options.WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) {
      this.fatalError = new DirectoryClientError("no_websocket", "no WebSocket implementation available");
      this.settle(this.fatalError);
      return;
    }
    this.lastServerError = null;
    this.setStatus("connecting");
    let socket: WebSocketLike;
    try {
      socket = new Impl(this.options.url);
    } catch (error) {
      // A malformed URL throws synchronously; retrying cannot fix it.
      this.fatalError = new DirectoryClientError(
        "transport",
        `cannot open ${this.options.url}: ${String(error)}`,
      );
      this.setStatus("disconnected");
      this.settle(this.fatalError);
      return;
    }
    this.socket = socket;
    socket.onmessage = (event) => this.onFrame(socket, event.data);
    socket.onclose = (event) => this.onSocketClosed(socket, event.code, event.reason);
    socket.onerror = () => {
      // A close event always follows an error event; reconnection is handled there.
    };
  }

  private ask(timeoutMs: number, build: (id: string) => DirectoryClientMessage) {
    if (this.status !== "connected") {
      return Promise.reject(new DirectoryQueryError("disconnected", "not connected to the directory"));
    }
    const { id, answer } = this.queries.open(timeoutMs);
    this.send(build(id));
    return answer;
  }

  private onFrame(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    this.lastReceivedAtMs = Date.now();
    const message = typeof data === "string" ? decodeDirectoryServerFrame(data) : null;
    if (!message) {
      this.stats.ignored++;
      return;
    }
    this.stats.received++;
    this.handle(socket, message);
  }

  private handle(socket: WebSocketLike, message: DirectoryServerMessage): void {
    switch (message.type) {
      case "challenge":
        void this.answerChallenge(socket, message.nonce);
        return;
      case "welcome": {
        this.token = message.sessionToken;
        this.selfPeer = message.self;
        this.peerMap.clear();
        this.addPeers(message.peers);
        this.othersOnline = message.total;
        this.reconnectAttempt = 0;
        this.startPing(socket);
        this.setStatus("connected");
        this.publishPeers();
        this.settle(null);
        return;
      }
      case "peers-changed":
        for (const peerId of message.left) this.peerMap.delete(peerId);
        this.addPeers(message.joined);
        this.addPeers(message.updated);
        this.othersOnline = message.total;
        this.publishPeers();
        return;
      case "peers-sample":
        this.addPeers(message.peers);
        this.othersOnline = message.total;
        this.publishPeers();
        return;
      case "pong":
        if (message.total !== this.othersOnline) {
          this.othersOnline = message.total;
          this.publishPeers();
        }
        return;
      case "query-result":
        // Known from now on (the server made us acquainted), so the mesh may link with them.
        this.addPeers(message.peers);
        this.publishPeers();
        this.queries.settle(message.id, {
          kind: "query",
          value: { peers: message.peers, matched: message.matched, total: message.total },
        });
        return;
      case "subscribed":
        this.queries.settle(message.id, { kind: "subscribed", value: message.online });
        return;
      case "watch-changed":
        for (const listener of this.watchListeners) listener(message);
        return;
      case "error": {
        // An error about one query fails that query only.
        if (message.id !== undefined && this.queries.fail(message.id, message.code, message.message)) return;
        const error = new DirectoryClientError(message.code, message.message);
        this.lastServerError = error;
        // Before the welcome these mean our join can never succeed; after it, only a takeover or a ban
        // (the operator closed this session) is final.
        const fatal =
          message.code === "session_replaced" ||
          message.code === "banned" ||
          (this.status !== "connected" && FATAL_ERROR_CODES.has(message.code));
        if (fatal) {
          this.fatalError = error;
          detach(socket);
          socket.close(DIRECTORY_CLOSE_CODES.normal, "fatal directory error");
          this.onSocketClosed(socket, DIRECTORY_CLOSE_CODES.normal, message.code);
        }
        return;
      }
    }
  }

  private async answerChallenge(socket: WebSocketLike, nonce: string): Promise<void> {
    const { identity } = this.options;
    let signature: Uint8Array;
    try {
      signature = await identity.sign(joinChallengeBytes(nonce));
    } catch (error) {
      this.fatalError = new DirectoryClientError(
        "transport",
        `signing the challenge failed: ${String(error)}`,
      );
      socket.close(DIRECTORY_CLOSE_CODES.normal, "cannot sign");
      return;
    }
    if (socket !== this.socket) return;
    this.send({
      v: DIRECTORY_PROTOCOL_VERSION,
      type: "join",
      peerId: identity.peerId,
      publicKey: identity.publicKey,
      capabilities: this.capabilities,
      signature: toBase64Url(signature),
    });
  }

  private send(message: DirectoryClientMessage): void {
    const socket = this.socket;
    // 1 = OPEN in both the DOM and `ws`.
    if (!socket || socket.readyState !== 1) return;
    socket.send(JSON.stringify(message));
    this.stats.sent++;
  }

  private onSocketClosed(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.dropSession();
    if (this.closedByUser) return;
    if (FATAL_CLOSE_CODES.has(code) && !this.fatalError) {
      this.fatalError =
        this.lastServerError ?? new DirectoryClientError("transport", `closed: ${code} ${reason}`);
    }
    if (this.fatalError) {
      this.settle(this.fatalError);
      return;
    }
    if (this.options.reconnect === false) {
      this.settle(this.lastServerError ?? new DirectoryClientError("transport", `closed: ${code} ${reason}`));
      return;
    }
    this.scheduleReconnect();
  }

  private dropSession(): void {
    this.queries.failAll("directory session lost");
    this.clearTimers();
    this.token = null;
    this.setStatus("disconnected");
  }

  private scheduleReconnect(): void {
    const minMs = this.options.reconnectMinDelayMs ?? 500;
    const maxMs = this.options.reconnectMaxDelayMs ?? 30_000;
    const ceilingMs = Math.min(maxMs, minMs * 2 ** this.reconnectAttempt);
    this.reconnectAttempt++;
    // Full jitter: a server restart must not be met by every tab reconnecting in the same millisecond.
    const delayMs = minMs / 2 + Math.random() * (ceilingMs - minMs / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closedByUser) this.openSocket();
    }, delayMs);
  }

  private startPing(socket: WebSocketLike): void {
    const intervalMs = this.options.pingIntervalMs ?? 10_000;
    this.pingSentAtMs = null;
    this.pingTimer = setInterval(() => {
      if (socket !== this.socket) return;
      const nowMs = Date.now();
      const awaitingPong = this.pingSentAtMs !== null && this.lastReceivedAtMs < this.pingSentAtMs;
      // Judged from our own unanswered ping, not from silence: a background tab's timers may fire a
      // minute late, and that alone must not look like a dead server.
      if (awaitingPong && nowMs - (this.pingSentAtMs ?? nowMs) > 2 * intervalMs) {
        // The server went silent (sleep, lost network): a close handshake would hang, so drop it now.
        detach(socket);
        socket.close(CLIENT_HEARTBEAT_CLOSE_CODE, "heartbeat timeout");
        this.onSocketClosed(socket, CLIENT_HEARTBEAT_CLOSE_CODE, "heartbeat timeout");
        return;
      }
      if (!awaitingPong) {
        this.pingSentAtMs = nowMs;
        this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "ping" });
      }
    }, intervalMs);
  }

  private clearTimers(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.pingTimer = null;
    this.reconnectTimer = null;
  }

  private setStatus(status: DirectoryStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  /** Records peers the server told us about (never ourselves: a server must not make us dial ourselves). */
  private addPeers(peers: readonly DirectoryPeer[]): void {
    for (const peer of peers) {
      if (peer.peerId === this.options.identity.peerId) this.selfPeer = peer;
      else this.peerMap.set(peer.peerId, peer);
    }
  }

  private publishPeers(): void {
    this.peerSnapshot = Object.freeze([...this.peerMap.values()]);
    for (const listener of this.peerListeners) listener(this.peerSnapshot);
    this.maybeRequestPeers();
  }

  /** Tops up a sample that leaves have thinned out, at a rate the server accepts. */
  private maybeRequestPeers(): void {
    const minKnown = this.options.minKnownPeers ?? 8;
    const intervalMs = this.options.peerRequestIntervalMs ?? 10_000;
    if (this.status !== "connected" || this.peerMap.size >= minKnown) return;
    if (this.othersOnline <= this.peerMap.size) return;
    if (Date.now() - this.lastPeerRequestAtMs < intervalMs) return;
    this.requestMorePeers();
  }

  /** Settles every waiting connect(): resolve on null, reject otherwise. */
  private settle(error: DirectoryClientError | null): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      if (error) p.reject(error);
      else p.resolve();
    }
  }
}
