import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from "express";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { LogThrottle } from "./logger.ts";
import type { IceServer } from "./config.ts";
import { bearerOf, secretEquals, violatedDirective } from "./http-security.ts";
import { clientAddress, isLoopback } from "./limits/client-address.ts";
import { precompressed } from "./precompressed.ts";
import type { MetricsSnapshot, ServerMetrics } from "./metrics.ts";
import { turnCredentials, type TurnConfig } from "./turn-credentials.ts";

export interface ApiDeps {
  readonly version: string;
  /** ICE_SERVERS: entries without a credential (STUN) go to anyone, the rest to joined peers only. */
  readonly iceServers: readonly IceServer[];
  readonly turn: TurnConfig | null;
  readonly trustProxy: boolean;
  readonly metricsToken: string | undefined;
  /** `token` is the live directory session token of `peerId`. */
  readonly sessionMatches: (peerId: string, token: string) => boolean;
  readonly peerCount: () => number;
  readonly uptimeS: () => number;
  readonly metrics: () => MetricsSnapshot;
  /** False while the server drains (SIGTERM): GET /ready answers 503 so a load balancer stops sending. */
  readonly ready: () => boolean;
  readonly counters: ServerMetrics;
  readonly logger: Logger;
  readonly throttle: LogThrottle;
}

/**
 * Metrics show who is online and how the server is being probed: this machine, or the operator's
 * METRICS_TOKEN as a bearer. Refusals are counted (and answered 403) here.
 */
export function metricsAllowed(
  req: Request,
  res: Response,
  deps: Pick<ApiDeps, "metricsToken" | "trustProxy" | "counters">,
): boolean {
  const bearer = bearerOf(req);
  const tokenOk =
    deps.metricsToken !== undefined && bearer !== null && secretEquals(bearer, deps.metricsToken);
  if (tokenOk || isLoopback(clientAddress(req, deps.trustProxy))) return true;
  deps.counters.rejectHttp("metrics_forbidden");
  res.status(403).json({ error: "forbidden", message: "metrics are for loopback callers or METRICS_TOKEN" });
  return false;
}

/** GET /api/v1/health, /ready, /config, /metrics; POST /api/v1/csp-report. */
export function apiRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const publicIceServers = deps.iceServers.filter((s) => s.credential === undefined);
  router.get("/health", (_req, res) => {
    res.json({ status: "ok", peers: deps.peerCount(), uptimeS: deps.uptimeS(), version: deps.version });
  });
  // Anyone gets the STUN servers; TURN credentials (static or minted) only a joined peer, which proves it
  // with `Authorization: Bearer <peerId>.<directory session token>`: a relay is bandwidth we pay for.
  router.get("/config", (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    const bearer = bearerOf(req);
    if (bearer === null) {
      res.json({ iceServers: publicIceServers });
      return;
    }
    const dot = bearer.lastIndexOf(".");
    const peerId = bearer.slice(0, Math.max(0, dot));
    const token = bearer.slice(dot + 1);
    if (dot <= 0 || !deps.sessionMatches(peerId, token)) {
      deps.counters.rejectHttp("config_bad_session");
      res.status(401).json({ error: "bad_session", message: "not a live directory session of that peer" });
      return;
    }
    const minted = deps.turn ? [turnCredentials(deps.turn, peerId, Date.now())] : [];
    res.json({ iceServers: [...deps.iceServers, ...minted] });
  });
  // For load balancers: 200 while the directory and the API take work, 503 once draining.
  router.get("/ready", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    if (deps.ready()) res.json({ ready: true });
    else res.status(503).json({ ready: false, reason: "draining" });
  });
  // The JSON view (benches, tests); Prometheus text is GET /metrics (prometheus.ts), same rule.
  router.get("/metrics", (req, res) => {
    if (metricsAllowed(req, res, deps)) res.json(deps.metrics());
  });
  // CSP violation reports (the policy's report-uri): small JSON, counted by directive, logged throttled.
  router.post(
    "/csp-report",
    express.json({
      limit: "8kb",
      type: ["application/csp-report", "application/reports+json", "application/json"],
    }),
    (req, res) => {
      const directive = violatedDirective(req.body);
      if (directive === null) {
        deps.counters.rejectHttp("csp_report_invalid");
        res.status(400).json({ error: "bad_request" });
        return;
      }
      deps.counters.cspViolation(directive);
      if (deps.throttle.admit(`csp:${directive}`) !== null) {
        const report = JSON.stringify(req.body).slice(0, 1_000);
        deps.logger.warn({ event: "csp_violation", directive, report });
      }
      res.status(204).end();
    },
  );
  return router;
}

/** Unknown /api paths answer JSON, never the SPA's index.html. */
export const apiNotFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: "not_found", path: req.path });
};

const MIME_OVERRIDES: Readonly<Record<string, string>> = {
  // WebAssembly.instantiateStreaming refuses anything but application/wasm.
  ".wasm": "application/wasm",
  // Module workers need a JavaScript MIME type (RFC 9239: text/javascript).
  ".mjs": "text/javascript; charset=utf-8",
};

/** The built app: hashed assets cached forever, index.html revalidated, SPA routes served index.html, and
 *  the build's brotli/gzip copies sent to clients that accept them (precompressed.ts). */
export function staticApp(staticDir: string, logger: Logger): Router {
  const root = path.resolve(staticDir);
  const indexPath = path.join(root, "index.html");
  if (!existsSync(indexPath)) {
    logger.warn(
      { event: "static_missing", staticDir: root },
      "no index.html in STATIC_DIR: run `npm run build`",
    );
  }
  const router = express.Router();
  router.use((req, res, next) => {
    // Client-side routes (/jobs/42) and / get index.html; a missing file (/app.js) stays a 404.
    const lastSegment = req.path.split("/").pop() ?? "";
    if ((req.method !== "GET" && req.method !== "HEAD") || lastSegment.includes(".")) {
      next();
      return;
    }
    if (!existsSync(indexPath)) {
      res.status(404).type("text/plain").send("Open-Swarm: the app is not built (run `npm run build`).\n");
      return;
    }
    const query = req.url.indexOf("?");
    req.url = `/index.html${query >= 0 ? req.url.slice(query) : ""}`;
    next();
  });
  router.use(precompressed(root, (filePath) => contentTypeOf(filePath) ?? path.extname(filePath)));
  router.use(
    express.static(root, {
      index: false,
      setHeaders: (res, filePath) => {
        // A brotli/gzip copy (x.wasm.br) has its Content-Type set already, from the original's name.
        const type = contentTypeOf(filePath);
        if (type) res.setHeader("Content-Type", type);
        const cache = filePath.includes(`${path.sep}assets${path.sep}`)
          ? "public, max-age=31536000, immutable"
          : "no-cache";
        res.setHeader("Cache-Control", cache);
      },
    }),
  );
  return router;
}

function contentTypeOf(filePath: string): string | undefined {
  return MIME_OVERRIDES[path.extname(filePath).toLowerCase()];
}

export function errorHandler(logger: Logger, metrics: ServerMetrics): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const status = httpStatusOf(error);
    if (status >= 500) logger.error({ event: "http_error", path: req.path, error: String(error) });
    // A refused request body (too large, not JSON) is counted like every other refusal.
    else metrics.rejectHttp(status === 413 ? "body_too_large" : "bad_request");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: status >= 500 ? "internal_error" : "bad_request" });
  };
}

function httpStatusOf(error: unknown): number {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 600 ? status : 500;
}
