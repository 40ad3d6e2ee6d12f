import express, { type ErrorRequestHandler, type RequestHandler, type Router } from "express";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { IceServer } from "./config.ts";
import type { MetricsSnapshot } from "./metrics.ts";

/**
 * Every response makes the page cross-origin isolated (SharedArrayBuffer for threaded WASM kernels and
 * ONNX Runtime threads), and nothing here may be embedded by another origin.
 */
export const isolationHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  next();
};

export interface ApiDeps {
  readonly version: string;
  readonly iceServers: readonly IceServer[];
  readonly peerCount: () => number;
  readonly uptimeS: () => number;
  readonly metrics: () => MetricsSnapshot;
}

/** GET /api/v1/health, /config, /metrics. */
export function apiRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get("/health", (_req, res) => {
    res.json({ status: "ok", peers: deps.peerCount(), uptimeS: deps.uptimeS(), version: deps.version });
  });
  router.get("/config", (_req, res) => {
    res.json({ iceServers: deps.iceServers });
  });
  router.get("/metrics", (_req, res) => {
    res.json(deps.metrics());
  });
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

/** The built app: hashed assets cached forever, index.html revalidated, SPA routes fall back to it. */
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
  router.use(
    express.static(root, {
      index: "index.html",
      setHeaders: (res, filePath) => {
        const type = MIME_OVERRIDES[path.extname(filePath).toLowerCase()];
        if (type) res.setHeader("Content-Type", type);
        const cache = filePath.includes(`${path.sep}assets${path.sep}`)
          ? "public, max-age=31536000, immutable"
          : "no-cache";
        res.setHeader("Cache-Control", cache);
      },
    }),
  );
  router.use((req, res, next) => {
    // Client-side routes (/jobs/42) get index.html; a missing file (/app.js) stays a 404.
    const lastSegment = req.path.split("/").pop() ?? "";
    if ((req.method !== "GET" && req.method !== "HEAD") || lastSegment.includes(".")) {
      next();
      return;
    }
    if (!existsSync(indexPath)) {
      res.status(404).type("text/plain").send("Open-Swarm: the app is not built (run `npm run build`).\n");
      return;
    }
    res.setHeader("Cache-Control", "no-cache");
    res.sendFile(indexPath);
  });
  return router;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const status = httpStatusOf(error);
    if (status >= 500) logger.error({ event: "http_error", path: req.path, error: String(error) });
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
