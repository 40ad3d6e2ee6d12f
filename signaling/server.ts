import express from "express";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { z } from "zod";
import { resolveConfig, type AppContext, type MountedApp, type ServerConfig } from "./config.ts";
import { DirectoryBans } from "./directory/bans.ts";
import { DirectoryRegistry } from "./directory/registry.ts";
import { createDirectoryService } from "./directory/service.ts";
import { datasetsRouter } from "./datasets.ts";
import { apiNotFound, apiRouter, errorHandler, metricsAllowed, staticApp } from "./http-app.ts";
import { securityHeaders } from "./http-security.ts";
import { createLogger, LogThrottle } from "./logger.ts";
import { ServerMetrics, type MetricsSnapshot } from "./metrics.ts";
import { mountPeerServer } from "./peerjs.ts";
import { PrometheusMetrics } from "./prometheus.ts";
import { installUpgradeDispatcher } from "./upgrade.ts";

export interface RunningServer {
  /** http://host:port (localhost when listening on all interfaces). */
  readonly url: string;
  readonly port: number;
  readonly logger: Logger;
  /** The underlying server, e.g. to inspect listeners; do not add another 'upgrade' listener to it. */
  readonly httpServer: Server;
  metrics(): MetricsSnapshot;
  /** Graceful drain before close (SIGTERM): /api/v1/ready turns 503, the mounted API ends its streams. */
  drain(): Promise<void>;
  /** Closes every socket and stops listening. */
  close(): Promise<void>;
}

/**
 * Open-Swarm's server: the built app with cross-origin isolation headers, the HTTP API under /api/v1,
 * the peer directory (WebSocket, /api/v1/directory) and the PeerJS server (/peerjs) on one port.
 */
export async function startServer(partial: Partial<ServerConfig> = {}): Promise<RunningServer> {
  const config = resolveConfig(partial);
  const logger = config.logger ?? createLogger(config.logLevel);
  const startedAtMs = Date.now();
  const metrics = new ServerMetrics();
  const registry = new DirectoryRegistry({
    sampleSize: config.directorySampleSize,
    tickMs: config.directoryTickMs,
    metrics,
  });
  const throttle = new LogThrottle();
  const bans = new DirectoryBans(registry, metrics, logger);

  const app = express();
  app.disable("x-powered-by");
  app.use(securityHeaders);
  const httpServer = createServer(app);
  // First, so it times every request; its values are read from the snapshot (below) at scrape time only.
  const prometheus = new PrometheusMetrics({
    snapshot: () => snapshot(),
    peersByRuntime: () => registry.peersByRuntime(),
    peers: () => registry.peers(),
  });
  app.use(prometheus.observeHttp);

  const peerjs = mountPeerServer(app, httpServer, {
    config,
    metrics,
    logger,
    throttle,
    isJoined: (peerId) => registry.get(peerId) !== undefined,
  });
  const directory = createDirectoryService({ config, registry, bans, metrics, logger, throttle });
  registry.onSessionEnded((peerId) => peerjs.terminate(peerId));
  const dispatcher = installUpgradeDispatcher(httpServer, {
    config,
    directory,
    peerjs,
    registry,
    bans,
    metrics,
    logger,
    throttle,
    extension: () => mounted?.websocket,
  });

  const snapshot = (): MetricsSnapshot =>
    metrics.snapshot({
      peers: registry.size,
      directoryConnections: directory.connectionCount,
      peerjsConnections: peerjs.connectionCount,
      peerjsPendingBytes: peerjs.pendingBytes,
      subscriptions: registry.subscriptionCount,
      bansActive: bans.size,
      uptimeS: Math.round((Date.now() - startedAtMs) / 1000),
    });

  let draining = false;

  // Order matters: headers, PeerJS (mounted above), the API, whatever the integrator mounts, the app.
  // Prometheus text, under the same rule as the JSON view (loopback or METRICS_TOKEN).
  app.get("/metrics", (req, res, next) => {
    const access = { metricsToken: config.metricsToken, trustProxy: config.trustProxy, counters: metrics };
    if (!metricsAllowed(req, res, access)) return;
    prometheus.text().then((text) => res.type(prometheus.contentType).send(text), next);
  });
  app.use(
    "/api/v1",
    apiRouter({
      version: packageVersion(),
      iceServers: config.iceServers,
      turn:
        config.turnUrls.length > 0 && config.turnSecret !== undefined
          ? { urls: config.turnUrls, secret: config.turnSecret, ttlS: config.turnTtlS }
          : null,
      trustProxy: config.trustProxy,
      metricsToken: config.metricsToken,
      sessionMatches: (peerId, token) => registry.tokenMatches(peerId, token),
      counters: metrics,
      logger,
      throttle,
      peerCount: () => registry.size,
      uptimeS: () => Math.round((Date.now() - startedAtMs) / 1000),
      metrics: snapshot,
      ready: () => !draining && (mounted?.ready?.() ?? true),
    }),
  );
  app.use("/api/v1/datasets", datasetsRouter());
  const context: AppContext = {
    metrics,
    logger,
    trustProxy: config.trustProxy,
    directory: {
      get size() {
        return registry.size;
      },
      peers: () => registry.peers(),
      get: (peerId) => registry.get(peerId)?.peer,
    },
    bans,
  };
  const mounted: MountedApp | undefined = config.configureApp?.(app, context) ?? undefined;
  app.use("/api", apiNotFound);
  app.use(staticApp(config.staticDir, logger));
  app.use(errorHandler(logger, metrics));

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  httpServer.on("error", (error) => logger.error({ event: "http_server_error", error: error.message }));
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${displayHost(config.host)}:${port}`;
  logger.info({ event: "listening", url, host: config.host, port, staticDir: config.staticDir });

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    logger,
    httpServer,
    metrics: snapshot,
    async drain() {
      draining = true;
      await mounted?.drain?.();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        void mounted?.close();
        dispatcher.close();
        directory.close();
        registry.close();
        peerjs.close();
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
        logger.info({ event: "closed" });
      });
      return closing;
    },
  };
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}

function packageVersion(): string {
  try {
    const raw: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    return z.object({ version: z.string() }).parse(raw).version;
  } catch {
    return "unknown";
  }
}
