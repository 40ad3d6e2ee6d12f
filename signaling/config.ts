import type { Express } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { MAX_DIRECTORY_PEERS } from "../src/core/protocol/directory.ts";

/** One ICE server as RTCPeerConnection accepts it; handed to clients by GET /api/v1/config. */
export const iceServerSchema = z.object({
  urls: z.union([z.string().min(1).max(512), z.array(z.string().min(1).max(512)).min(1).max(16)]),
  username: z.string().max(512).optional(),
  credential: z.string().max(512).optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerConfig {
  /** 0 picks a free port (tests). */
  port: number;
  /** 127.0.0.1 by default: only this machine can connect. Use 0.0.0.0 to accept other machines. */
  host: string;
  /** The built Vite app (served with COOP/COEP, SPA fallback to index.html). */
  staticDir: string;
  iceServers: IceServer[];
  logLevel: LogLevel;
  /** Use this logger instead of creating one (tests capture log lines this way). */
  logger?: Logger;
  /** Concurrent WebSocket connections (directory + PeerJS) per client address. */
  maxConnectionsPerIp: number;
  /** WebSocket upgrades per client address: token bucket refill rate and size. */
  upgradeRatePerS: number;
  upgradeBurst: number;
  /** Directory frames per connection: token bucket refill rate and size. */
  messageRatePerS: number;
  messageBurst: number;
  /** PeerJS frames per connection (offers, answers, ICE candidates, heartbeats); a flood drops the socket. */
  peerjsMessageRatePerS: number;
  peerjsMessageBurst: number;
  /** Largest WebSocket frame on either channel; bigger frames close the socket (1009). */
  maxPayloadBytes: number;
  /** Invalid directory frames tolerated per connection before it is closed. */
  maxInvalidMessages: number;
  /**
   * Directory sockets are pinged this often; one missed pong and the socket is dropped, so a vanished peer
   * leaves everyone's view within two intervals (8 s by default).
   */
  heartbeatIntervalMs: number;
  /** A connection that has not joined within this time is closed. */
  joinTimeoutMs: number;
  /** Directory size cap (and the PeerJS client limit). */
  maxPeers: number;
  /** A peer whose unsent backlog exceeds this is too slow to keep up with broadcasts: disconnected. */
  maxBufferedBytes: number;
  /** Take the client address from X-Forwarded-For (only behind a reverse proxy you control). */
  trustProxy: boolean;
  /** Mount more routes (e.g. the HTTP job API) before the static files and the SPA fallback. */
  configureApp?: (app: Express) => void;
}

export const DEFAULT_CONFIG: Readonly<Omit<ServerConfig, "logger" | "configureApp">> = {
  port: 8080,
  host: "127.0.0.1",
  staticDir: "./dist",
  iceServers: [],
  logLevel: "info",
  maxConnectionsPerIp: 64,
  upgradeRatePerS: 20,
  upgradeBurst: 40,
  messageRatePerS: 20,
  messageBurst: 60,
  peerjsMessageRatePerS: 200,
  peerjsMessageBurst: 1_000,
  maxPayloadBytes: 64 * 1024,
  maxInvalidMessages: 20,
  heartbeatIntervalMs: 4_000,
  joinTimeoutMs: 10_000,
  maxPeers: 5_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  trustProxy: false,
};

export function resolveConfig(partial: Partial<ServerConfig>): ServerConfig {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...stripUndefined(partial) };
  const positive: (keyof ServerConfig)[] = [
    "maxConnectionsPerIp",
    "upgradeRatePerS",
    "upgradeBurst",
    "messageRatePerS",
    "messageBurst",
    "peerjsMessageRatePerS",
    "peerjsMessageBurst",
    "maxPayloadBytes",
    "maxInvalidMessages",
    "heartbeatIntervalMs",
    "joinTimeoutMs",
    "maxPeers",
    "maxBufferedBytes",
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new Error(`server config: ${key} must be a positive number, got ${String(value)}`);
    }
  }
  if (config.maxPeers > MAX_DIRECTORY_PEERS) {
    // Clients refuse a welcome listing more peers than the protocol allows.
    throw new Error(`server config: maxPeers must be at most ${MAX_DIRECTORY_PEERS}, got ${config.maxPeers}`);
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new Error(`server config: port must be an integer in 0..65535, got ${config.port}`);
  }
  return config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
