import type { Express } from "express";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { ExpressPeerServer } from "peer";
import type { Logger } from "pino";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { PEERJS_KEY, PEERJS_MOUNT_PATH } from "../src/core/protocol/directory.ts";
import type { ServerConfig } from "./config.ts";
import type { LogThrottle } from "./logger.ts";
import type { ServerMetrics } from "./metrics.ts";
import { RelayGuard } from "./relay/guard.ts";

/** PeerJS clients connect here: PeerJS appends "/peerjs" to the mount path. */
export const PEERJS_WS_PATH = `${PEERJS_MOUNT_PATH}/peerjs`;

export interface PeerJsBridge {
  /** Completes an upgrade the dispatcher has already authorized for `peerId`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, peerId: string): WebSocket | null;
  /** Drops the PeerJS registration (and frames held for it) of a peer whose directory session ended. */
  terminate(peerId: string): void;
  readonly connectionCount: number;
  /** Bytes of signaling frames held for joined peers that have not registered yet. */
  readonly pendingBytes: number;
  close(): void;
}

interface PeerJsDeps {
  readonly config: Pick<
    ServerConfig,
    | "maxPayloadBytes"
    | "maxPeers"
    | "peerjsMessageRatePerS"
    | "peerjsMessageBurst"
    | "peerjsByteRatePerS"
    | "peerjsByteBurst"
    | "peerjsMaxFrameBytes"
    | "peerjsPendingTtlMs"
    | "peerjsPendingBytesPerSource"
    | "peerjsPendingBytesPerDestination"
    | "peerjsPendingBytesTotal"
    | "peerjsMaxDestinationBufferedBytes"
  >;
  /** The id has a live directory session. */
  readonly isJoined: (peerId: string) => boolean;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly throttle: LogThrottle;
}

/**
 * Mounts the `peer` package's ExpressPeerServer at /peerjs. Its WebSocket server is created with
 * `noServer`, so it does not listen to the HTTP server's 'upgrade' event itself: the one upgrade dispatcher
 * authorizes each registration against the directory first, then hands the socket over here.
 *
 * The package is used for registration only (OPEN, ID-TAKEN, heartbeats, its alive timeout). Frames are
 * intercepted before it sees them by wrapping `emit` on each accepted socket, before the socket is handed
 * to the package: ws delivers every frame through `socket.emit("message")`, so a frame the guard keeps never
 * reaches the package's listener (`_configureWS`). Why there and not elsewhere: the package's Realm and
 * MessageHandler are closure-private (no hook), its app-level 'message' event fires after parsing but
 * cannot veto the relay, and a second listener on the socket runs alongside the package's, not before it.
 * The relay itself (OFFER / ANSWER / CANDIDATE) is done by the guard (relay/guard.ts), so the package's
 * uncapped queue for offline ids is never used.
 */
export function mountPeerServer(app: Express, httpServer: Server, deps: PeerJsDeps): PeerJsBridge {
  const { config, metrics, logger, throttle } = deps;
  let wss: WebSocketServer | null = null;
  const peerServer = ExpressPeerServer(httpServer, {
    key: PEERJS_KEY,
    path: "/",
    allow_discovery: false,
    concurrent_limit: config.maxPeers,
    // The package's default `origin: true` echoes any Origin back; the app is same-origin, it needs none.
    corsOptions: { origin: false },
    createWebSocketServer: (options) => {
      wss = new WebSocketServer({
        noServer: true,
        // The bytes of an oversized frame are never buffered: ws closes the socket with 1009.
        maxPayload: Math.min(config.maxPayloadBytes, config.peerjsMaxFrameBytes),
        perMessageDeflate: false,
        ...(options.path === undefined ? {} : { path: options.path }),
      });
      return wss;
    },
  });
  // The package's routes are its own express app, which would otherwise announce itself.
  peerServer.disable("x-powered-by");
  // The `peer` package re-emits socket errors on the app; an EventEmitter 'error' without a listener
  // would throw and take the whole server down.
  peerServer.on("error", (error) => {
    const suppressed = throttle.admit("peerjs:error");
    if (suppressed !== null) logger.warn({ event: "peerjs_error", error: error.message, suppressed });
  });
  // Mounting emits 'mount', on which the package builds its instance and calls createWebSocketServer.
  app.use(PEERJS_MOUNT_PATH, peerServer);
  const server = wss as WebSocketServer | null;
  if (!server) throw new Error("peer package did not call createWebSocketServer on mount");

  const sockets = new Map<string, WebSocket>();
  const guard = new RelayGuard({
    limits: {
      framesPerS: config.peerjsMessageRatePerS,
      frameBurst: config.peerjsMessageBurst,
      bytesPerS: config.peerjsByteRatePerS,
      byteBurst: config.peerjsByteBurst,
      maxDestinationBufferedBytes: config.peerjsMaxDestinationBufferedBytes,
      pending: {
        ttlMs: config.peerjsPendingTtlMs,
        maxBytesPerSource: config.peerjsPendingBytesPerSource,
        maxBytesPerDestination: config.peerjsPendingBytesPerDestination,
        maxBytesTotal: config.peerjsPendingBytesTotal,
      },
    },
    metrics,
    isJoined: deps.isJoined,
    socketOf: (peerId) => sockets.get(peerId),
    onFlood: (peerId) => {
      const suppressed = throttle.admit(`peerjs:flood:${peerId}`);
      if (suppressed !== null) logger.warn({ event: "peerjs_flood", peerId, suppressed });
      sockets.get(peerId)?.terminate();
    },
  });
  const tickTimer = setInterval(() => guard.tick(), 1_000);
  tickTimer.unref();

  return {
    handleUpgrade(req, socket, head, peerId) {
      let accepted: WebSocket | null = null;
      server.handleUpgrade(req, socket, head, (ws) => {
        accepted = ws;
        // A second registration with the right token supersedes the first socket (PeerJS keeps the newest).
        sockets.get(peerId)?.terminate();
        sockets.set(peerId, ws);
        ws.on("close", () => {
          if (sockets.get(peerId) === ws) sockets.delete(peerId);
        });
        ws.on("error", (error) => {
          const code = (error as { code?: unknown }).code;
          metrics.rejectPeerjs(
            code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? "peerjs_too_large" : "peerjs_protocol_error",
          );
        });
        interceptFrames(ws, (data, isBinary) => guard.onFrame(peerId, data, isBinary) === "to-peer-package");
        server.emit("connection", ws, req);
        // The package answered OPEN (or refused and closed the socket): deliver what was held for this id.
        if (ws.readyState === ws.OPEN) guard.onRegistered(peerId, ws);
      });
      return accepted;
    },
    terminate(peerId) {
      guard.onSessionEnded(peerId);
      const ws = sockets.get(peerId);
      if (!ws) return;
      sockets.delete(peerId);
      ws.terminate();
    },
    get connectionCount() {
      return sockets.size;
    },
    get pendingBytes() {
      return guard.pendingBytes;
    },
    close() {
      clearInterval(tickTimer);
      for (const ws of sockets.values()) ws.terminate();
      sockets.clear();
      server.close();
    },
  };
}

/** Routes every 'message' event of `ws` through `admit`; only admitted frames reach other listeners. */
function interceptFrames(ws: WebSocket, admit: (data: RawData, isBinary: boolean) => boolean): void {
  const emit = ws.emit.bind(ws);
  ws.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== "message") return emit(event, ...args);
    const [data, isBinary] = args as [RawData, boolean];
    return admit(data, isBinary) ? emit(event, ...args) : false;
  }) as WebSocket["emit"];
}
