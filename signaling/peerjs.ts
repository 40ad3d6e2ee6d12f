import type { Express } from "express";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { ExpressPeerServer } from "peer";
import type { Logger } from "pino";
import { WebSocketServer, type WebSocket } from "ws";
import { PEERJS_KEY, PEERJS_MOUNT_PATH } from "../src/core/protocol/directory.ts";
import type { ServerConfig } from "./config.ts";
import { TokenBucket } from "./limits/token-bucket.ts";
import type { LogThrottle } from "./logger.ts";
import type { ServerMetrics } from "./metrics.ts";

/** PeerJS clients connect here: PeerJS appends "/peerjs" to the mount path. */
export const PEERJS_WS_PATH = `${PEERJS_MOUNT_PATH}/peerjs`;
const PEERJS_MESSAGE_TYPES = new Set(["HEARTBEAT", "OFFER", "ANSWER", "CANDIDATE", "LEAVE", "EXPIRE"]);

export interface PeerJsBridge {
  /** Completes an upgrade the dispatcher has already authorized for `peerId`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, peerId: string): WebSocket | null;
  /** Drops the PeerJS registration of a peer whose directory session ended. */
  terminate(peerId: string): void;
  readonly connectionCount: number;
  close(): void;
}

interface PeerJsDeps {
  readonly config: Pick<
    ServerConfig,
    "maxPayloadBytes" | "maxPeers" | "peerjsMessageRatePerS" | "peerjsMessageBurst"
  >;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly throttle: LogThrottle;
}

/**
 * Mounts the `peer` package's ExpressPeerServer at /peerjs. Its WebSocket server is created with
 * `noServer`, so it does not listen to the HTTP server's 'upgrade' event itself: the one upgrade dispatcher
 * authorizes each registration against the directory first, then hands the socket over here.
 */
export function mountPeerServer(app: Express, httpServer: Server, deps: PeerJsDeps): PeerJsBridge {
  const { config, metrics, logger, throttle } = deps;
  let wss: WebSocketServer | null = null;
  const peerServer = ExpressPeerServer(httpServer, {
    key: PEERJS_KEY,
    path: "/",
    allow_discovery: false,
    concurrent_limit: config.maxPeers,
    createWebSocketServer: (options) => {
      wss = new WebSocketServer({
        noServer: true,
        maxPayload: config.maxPayloadBytes,
        perMessageDeflate: false,
        ...(options.path === undefined ? {} : { path: options.path }),
      });
      return wss;
    },
  });
  // The `peer` package re-emits socket errors (e.g. a frame that is not JSON) on the app; an EventEmitter
  // 'error' without a listener would throw and take the whole server down.
  peerServer.on("error", (error) => {
    const suppressed = throttle.admit("peerjs:error");
    if (suppressed !== null) logger.warn({ event: "peerjs_error", error: error.message, suppressed });
  });
  peerServer.on("message", (_client, message) => {
    const type =
      typeof message.type === "string" && PEERJS_MESSAGE_TYPES.has(message.type) ? message.type : "other";
    metrics.peerjsMessageIn(type);
  });
  // Mounting emits 'mount', on which the package builds its instance and calls createWebSocketServer.
  app.use(PEERJS_MOUNT_PATH, peerServer);
  const server = wss as WebSocketServer | null;
  if (!server) throw new Error("peer package did not call createWebSocketServer on mount");

  const sockets = new Map<string, WebSocket>();
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
        const bucket = new TokenBucket(config.peerjsMessageRatePerS, config.peerjsMessageBurst, Date.now());
        ws.on("message", () => {
          if (bucket.take(Date.now())) return;
          metrics.rejectMessage("peerjs_rate_limited");
          const suppressed = throttle.admit(`peerjs:flood:${peerId}`);
          if (suppressed !== null) logger.warn({ event: "peerjs_flood", peerId, suppressed });
          ws.terminate();
        });
        server.emit("connection", ws, req);
      });
      return accepted;
    },
    terminate(peerId) {
      const ws = sockets.get(peerId);
      if (!ws) return;
      sockets.delete(peerId);
      ws.terminate();
    },
    get connectionCount() {
      return sockets.size;
    },
    close() {
      for (const ws of sockets.values()) ws.terminate();
      sockets.clear();
      server.close();
    },
  };
}
