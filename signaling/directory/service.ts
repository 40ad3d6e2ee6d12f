import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { DIRECTORY_CLOSE_CODES } from "../../src/core/protocol/directory.ts";
import type { ServerConfig } from "../config.ts";
import { DirectoryConnection, type DirectoryConnectionContext } from "./connection.ts";

export interface DirectoryService {
  /** Completes the WebSocket handshake (already admitted by the dispatcher) and starts the protocol. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ip: string): WebSocket | null;
  readonly connectionCount: number;
  close(): void;
}

/** The directory's WebSocket server (noServer: the upgrade dispatcher hands it sockets) and heartbeat. */
export function createDirectoryService(
  ctx: DirectoryConnectionContext & {
    readonly config: DirectoryConnectionContext["config"] &
      Pick<ServerConfig, "maxPayloadBytes" | "heartbeatIntervalMs">;
  },
): DirectoryService {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: ctx.config.maxPayloadBytes,
    perMessageDeflate: false,
  });
  const connections = new Set<DirectoryConnection>();

  // Ping every interval; a socket that missed one pong is dropped at the next beat, so a vanished tab
  // leaves everyone's view within two intervals (a normal tab close sends a close frame at once).
  const heartbeatTimer = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, ctx.config.heartbeatIntervalMs);

  return {
    handleUpgrade(req, socket, head, ip) {
      let accepted: WebSocket | null = null;
      // Without verifyClient, ws completes the handshake synchronously, so `accepted` is set on return.
      wss.handleUpgrade(req, socket, head, (ws) => {
        accepted = ws;
        const connection = new DirectoryConnection(ws, ip, ctx);
        connections.add(connection);
        ws.once("close", () => connections.delete(connection));
      });
      return accepted;
    },
    get connectionCount() {
      return connections.size;
    },
    close() {
      clearInterval(heartbeatTimer);
      const open = [...connections];
      for (const connection of open) {
        connection.evict("shutting_down", "server is shutting down", DIRECTORY_CLOSE_CODES.goingAway);
      }
      // Give clients a moment to answer the close frame, then cut whatever is left.
      setTimeout(() => {
        for (const connection of open) connection.terminate();
      }, 1_000).unref();
      wss.close();
    },
  };
}
