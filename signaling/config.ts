import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { DirectoryPeer } from "../src/core/protocol/directory.ts";
import type { Express } from "express";
import type { Logger } from "pino";
import type { ServerMetrics } from "./metrics.ts";
import type { BanOutcome, PeerBan } from "./directory/bans.ts";
import { z } from "zod";
import { MAX_DIRECTORY_PEERS, MAX_DIRECTORY_SAMPLE_PEERS } from "../src/core/protocol/directory.ts";

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
  /**
   * PeerJS frames per peer id (offers, answers, ICE candidates, heartbeats), surviving reconnects; a flood
   * drops the socket.
   */
  peerjsMessageRatePerS: number;
  peerjsMessageBurst: number;
  /** PeerJS bytes per peer id: token bucket refill rate and size. */
  peerjsByteRatePerS: number;
  peerjsByteBurst: number;
  /** Largest PeerJS frame (an SDP offer is 1-5 KB); bigger frames close the socket (1009). */
  peerjsMaxFrameBytes: number;
  /** Signaling frames held for a joined peer not yet registered with PeerJS: lifetime and byte caps. */
  peerjsPendingTtlMs: number;
  peerjsPendingBytesPerSource: number;
  peerjsPendingBytesPerDestination: number;
  peerjsPendingBytesTotal: number;
  /** A PeerJS destination with more unsent bytes than this gets no more frames until it reads. */
  peerjsMaxDestinationBufferedBytes: number;
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
  /**
   * Peers a welcome lists and each peer's target number of acquaintances (a join is announced to at most
   * this many). A swarm no bigger than this is a full mesh.
   */
  directorySampleSize: number;
  /** Directory changes are coalesced and pushed at most once per tick per peer. */
  directoryTickMs: number;
  /** A peer's capability updates take effect at most once per interval (the latest of the rest after it). */
  capabilityUpdateIntervalMs: number;
  /** A peer may ask for more peers (`request-peers`) at most once per interval. */
  peerRequestIntervalMs: number;
  /** Directory queries and subscribes per second per session, and the burst (each scans the swarm). */
  queryRatePerS: number;
  queryBurst: number;
  /** Take the client address from the rightmost X-Forwarded-For entry (only behind your own proxy). */
  trustProxy: boolean;
  /** TURN server URLs handed (with short-lived credentials) to joined peers only; empty: no TURN. */
  turnUrls: string[];
  /** The TURN server's shared secret (coturn `static-auth-secret`), for TURN REST API credentials. */
  turnSecret: string | undefined;
  /** Lifetime of the TURN credentials handed out. */
  turnTtlS: number;
  /** Bearer token that opens /api/v1/metrics to remote callers; without it only loopback callers see it. */
  metricsToken: string | undefined;
  /**
   * Mount more routes (the solve API, api/) before the static files and the SPA fallback. What it returns
   * is closed with the server.
   */
  configureApp?: (app: Express, context: AppContext) => MountedApp | void;
}

/** What a mounted extension (configureApp) gets from the server: its counters, its log, its proxy rule. */
export interface AppContext {
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly trustProxy: boolean;
  /** Who is online, read-only (the API's /swarm and /nodes). */
  readonly directory: DirectoryView;
  /** The directory's ban list (the API's admin routes): bans hold for the life of the process. */
  readonly bans: BanControl;
}

/** Banning peer ids at the directory (directory/bans.ts): refused at join, a live session closed. */
export interface BanControl {
  /** null when the list is full (MAX_BANS) and the id is not on it. */
  ban(peerId: string, reason: string, ttlS: number | null): BanOutcome | null;
  lift(peerId: string): boolean;
  list(): PeerBan[];
}

/** Refusing an upgrade: the HTTP status, a reason counted in the metrics, a message for the caller. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
}

/**
 * An extension's WebSocket path. The server's one upgrade dispatcher (upgrade.ts) applies its per-address
 * connection and rate limits first, then hands the request over: the extension authenticates it and opens
 * the socket (counted against the address until it closes), or refuses it.
 */
export interface ExtensionWebSocket {
  readonly path: string;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): WebSocket | null | UpgradeRefusal;
}

/** A read-only view of the directory for an extension: what each peer announced, as announced. */
export interface DirectoryView {
  readonly size: number;
  peers(): IterableIterator<DirectoryPeer>;
  get(peerId: string): DirectoryPeer | undefined;
}

export interface MountedApp {
  close(): Promise<void>;
  /** A WebSocket endpoint of the extension (the API's /api/v1/ws), behind the server's upgrade limits. */
  websocket?: ExtensionWebSocket;
  /** False while the extension takes no new work (draining): GET /api/v1/ready answers 503. */
  ready?(): boolean;
  /** Graceful drain before close (SIGTERM): finish or end running work, within the extension's grace. */
  drain?(): Promise<void>;
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
  peerjsByteRatePerS: 256 * 1024,
  peerjsByteBurst: 2 * 1024 * 1024,
  peerjsMaxFrameBytes: 16 * 1024,
  peerjsPendingTtlMs: 5_000,
  peerjsPendingBytesPerSource: 64 * 1024,
  peerjsPendingBytesPerDestination: 256 * 1024,
  peerjsPendingBytesTotal: 16 * 1024 * 1024,
  peerjsMaxDestinationBufferedBytes: 1024 * 1024,
  maxPayloadBytes: 64 * 1024,
  maxInvalidMessages: 20,
  heartbeatIntervalMs: 4_000,
  joinTimeoutMs: 10_000,
  maxPeers: 5_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  directorySampleSize: 64,
  directoryTickMs: 100,
  capabilityUpdateIntervalMs: 10_000,
  peerRequestIntervalMs: 5_000,
  queryRatePerS: 2,
  queryBurst: 10,
  trustProxy: false,
  turnUrls: [],
  turnSecret: undefined,
  turnTtlS: 3_600,
  metricsToken: undefined,
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
    "peerjsByteRatePerS",
    "peerjsByteBurst",
    "peerjsMaxFrameBytes",
    "peerjsPendingTtlMs",
    "peerjsPendingBytesPerSource",
    "peerjsPendingBytesPerDestination",
    "peerjsPendingBytesTotal",
    "peerjsMaxDestinationBufferedBytes",
    "turnTtlS",
    "maxPayloadBytes",
    "maxInvalidMessages",
    "heartbeatIntervalMs",
    "joinTimeoutMs",
    "maxPeers",
    "maxBufferedBytes",
    "directorySampleSize",
    "directoryTickMs",
    "capabilityUpdateIntervalMs",
    "peerRequestIntervalMs",
    "queryRatePerS",
    "queryBurst",
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
  if (config.peerjsByteBurst < config.peerjsMaxFrameBytes) {
    // Otherwise a single largest frame could never pass.
    throw new Error("server config: peerjsByteBurst must be at least peerjsMaxFrameBytes");
  }
  if (config.turnUrls.length > 0 && (config.turnSecret ?? "").length < 16) {
    throw new Error("server config: TURN_URLS needs TURN_SECRET (at least 16 characters)");
  }
  if (
    !Number.isInteger(config.directorySampleSize) ||
    config.directorySampleSize > MAX_DIRECTORY_SAMPLE_PEERS
  ) {
    throw new Error(
      `server config: directorySampleSize must be an integer of at most ${MAX_DIRECTORY_SAMPLE_PEERS}, got ${config.directorySampleSize}`,
    );
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new Error(`server config: port must be an integer in 0..65535, got ${config.port}`);
  }
  return config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
