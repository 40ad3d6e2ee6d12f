import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { DIRECTORY_PATH, PEERJS_KEY } from "../src/core/protocol/directory.ts";
import type { ExtensionWebSocket, ServerConfig } from "./config.ts";
import type { DirectoryBans } from "./directory/bans.ts";
import type { DirectoryRegistry } from "./directory/registry.ts";
import type { DirectoryService } from "./directory/service.ts";
import { rejectUpgrade } from "./http-reject.ts";
import { addressKey, clientAddress } from "./limits/client-address.ts";
import { ConnectionCounter } from "./limits/connection-counter.ts";
import { KeyedRateLimiter } from "./limits/token-bucket.ts";
import type { LogThrottle } from "./logger.ts";
import type { ServerMetrics } from "./metrics.ts";
import { PEERJS_WS_PATH, type PeerJsBridge } from "./peerjs.ts";

export interface UpgradeDispatcherDeps {
  readonly config: Pick<
    ServerConfig,
    "maxConnectionsPerIp" | "upgradeRatePerS" | "upgradeBurst" | "trustProxy"
  >;
  readonly directory: DirectoryService;
  readonly peerjs: PeerJsBridge;
  readonly registry: DirectoryRegistry;
  readonly bans: Pick<DirectoryBans, "get">;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly throttle: LogThrottle;
  /** The extension's WebSocket endpoint, if it has one (read at each upgrade: mounted after this). */
  readonly extension?: () => ExtensionWebSocket | undefined;
}

export interface UpgradeDispatcher {
  readonly openConnections: number;
  close(): void;
}

/**
 * The only 'upgrade' listener on the HTTP server. Two ws servers each listening to 'upgrade' would both
 * try to answer every request; here each request is routed by path, and admitted only within the
 * per-address limits. A PeerJS registration is admitted only for a peer id with a live directory session
 * and that session's token, so nobody can register an id derived from a key they do not hold.
 */
export function installUpgradeDispatcher(server: Server, deps: UpgradeDispatcherDeps): UpgradeDispatcher {
  const { config, directory, peerjs, registry, metrics, logger, throttle } = deps;
  const connections = new ConnectionCounter(config.maxConnectionsPerIp);
  const rateLimiter = new KeyedRateLimiter(config.upgradeRatePerS, config.upgradeBurst);
  const pruneTimer = setInterval(() => rateLimiter.prune(), 60_000);
  pruneTimer.unref();

  const refuse = (socket: Duplex, ip: string, status: number, reason: string, message: string): void => {
    metrics.rejectUpgrade(reason);
    const suppressed = throttle.admit(`upgrade:${reason}:${ip}`);
    if (suppressed !== null) logger.warn({ event: "upgrade_rejected", reason, status, ip, suppressed });
    rejectUpgrade(socket, status, message);
  };

  /** Counts an accepted socket against its address until it closes; false if the handshake failed. */
  const track = (ws: WebSocket | null, key: string): boolean => {
    if (!ws) {
      // ws has already answered 400 (e.g. a missing Sec-WebSocket-Key); only count it.
      metrics.rejectUpgrade("bad_handshake");
      return false;
    }
    connections.open(key);
    ws.once("close", () => connections.release(key));
    return true;
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // After 'upgrade' Node leaves the socket without an error listener; a reset would crash the process.
    socket.on("error", () => socket.destroy());
    const ip = clientAddress(req, config.trustProxy);
    // Limits count per address, an IPv6 address per /64 (limits/client-address.ts).
    const key = addressKey(ip);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://upgrade.invalid");
    } catch {
      refuse(socket, ip, 400, "bad_url", "malformed request URL");
      return;
    }
    const extension = deps.extension?.();
    const route =
      url.pathname === DIRECTORY_PATH
        ? "directory"
        : url.pathname === PEERJS_WS_PATH
          ? "peerjs"
          : extension !== undefined && url.pathname === extension.path
            ? "extension"
            : null;
    if (!route) {
      refuse(socket, ip, 404, "unknown_path", "no WebSocket endpoint at this path");
      return;
    }
    if (!connections.canOpen(key)) {
      refuse(
        socket,
        ip,
        429,
        "too_many_connections",
        `at most ${config.maxConnectionsPerIp} connections per address`,
      );
      return;
    }
    if (!rateLimiter.take(key)) {
      refuse(socket, ip, 429, "rate_limited", `at most ${config.upgradeRatePerS} connections/s per address`);
      return;
    }
    if (route === "extension") {
      const opened = extension!.handleUpgrade(req, socket, head);
      if (opened !== null && "status" in opened) {
        refuse(socket, ip, opened.status, opened.reason, opened.message);
        return;
      }
      if (track(opened, key)) metrics.upgradesAccepted.extension++;
      return;
    }
    if (route === "directory") {
      if (track(directory.handleUpgrade(req, socket, head, ip), key)) metrics.upgradesAccepted.directory++;
      return;
    }
    // We check the first `id`/`token`, the `peer` package registers the last (Object.fromEntries): with
    // `?id=A&token=TA&id=VICTIM` a peer holding A's token would open as VICTIM. A repeated parameter is
    // refused, and the package is handed a URL rebuilt from the checked values only.
    const params = url.searchParams;
    if (["id", "token", "key"].some((name) => params.getAll(name).length > 1)) {
      refuse(socket, ip, 400, "peerjs_repeated_param", "id, token and key may appear once each");
      return;
    }
    const id = params.get("id");
    const token = params.get("token");
    if (!id || !token || params.get("key") !== PEERJS_KEY) {
      refuse(socket, ip, 400, "peerjs_bad_params", "PeerJS needs id, token and key=peerjs");
      return;
    }
    // A banned id has no session either; said first, so its owner learns why rather than "join first".
    if (deps.bans.get(id) !== undefined) {
      refuse(socket, ip, 403, "peerjs_banned", "this peer id is banned by the server's operator");
      return;
    }
    if (!registry.get(id)) {
      refuse(socket, ip, 401, "peerjs_no_session", "join the directory before registering with PeerJS");
      return;
    }
    if (!registry.tokenMatches(id, token)) {
      refuse(socket, ip, 401, "peerjs_bad_token", "token is not this peer's directory session token");
      return;
    }
    req.url = `${PEERJS_WS_PATH}?${new URLSearchParams({ key: PEERJS_KEY, id, token }).toString()}`;
    if (track(peerjs.handleUpgrade(req, socket, head, id), key)) metrics.upgradesAccepted.peerjs++;
  };

  server.on("upgrade", onUpgrade);
  return {
    get openConnections() {
      return connections.total;
    },
    close() {
      clearInterval(pruneTimer);
      server.off("upgrade", onUpgrade);
    },
  };
}
