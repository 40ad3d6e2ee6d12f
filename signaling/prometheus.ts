import type { Request, RequestHandler } from "express";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { DirectoryPeer } from "../src/core/protocol/directory.ts";
import type { MetricsSnapshot } from "./metrics.ts";
import { mirroredCounter, mirroredGauge, one, type Labels } from "./prometheus-mirror.ts";
import { registerSwarmSeries } from "./prometheus-swarm.ts";

/**
 * GET /metrics in Prometheus text format (prom-client), read from the same counters as the JSON view at
 * /api/v1/metrics (which the benches and tests read): every value is taken from the snapshot at scrape
 * time, so the two never disagree. One registry per server (tests run several in a process). Every label
 * value comes from a fixed set (peer runtime, rejection reason codes, route patterns, status class), never
 * from what a peer or a URL says, so the series count stays bounded.
 */
export interface PrometheusDeps {
  readonly snapshot: () => MetricsSnapshot;
  /** Peers online by self-reported runtime (browser | node: the protocol's enum). */
  readonly peersByRuntime: () => Readonly<Record<string, number>>;
  /** Every peer online, as announced (volunteers vs requester-only, at scrape time). */
  readonly peers: () => Iterable<DirectoryPeer>;
}

export class PrometheusMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds: Histogram<"method" | "route" | "status">;

  constructor(deps: PrometheusDeps) {
    const r = this.registry;
    const s = deps.snapshot;
    collectDefaultMetrics({ register: r, prefix: "open_swarm_" });
    mirroredGauge(r, "open_swarm_peers", "Peers online in the directory, by runtime", ["runtime"], () =>
      Object.entries(deps.peersByRuntime()).map(([runtime, n]) => [{ runtime }, n]),
    );
    mirroredGauge(r, "open_swarm_directory_connections", "Directory WebSockets open", [], () =>
      one(s().directoryConnections),
    );
    mirroredGauge(r, "open_swarm_peerjs_connections", "PeerJS WebSockets open", [], () =>
      one(s().peerjsConnections),
    );
    mirroredCounter(r, "open_swarm_directory_joins_total", "Directory joins", [], () => one(s().joins));
    mirroredCounter(r, "open_swarm_directory_leaves_total", "Directory leaves", [], () => one(s().leaves));
    mirroredCounter(
      r,
      "open_swarm_rejections_total",
      "Refusals by channel (upgrade, message, peerjs, http) and reason code",
      ["channel", "reason"],
      () =>
        Object.entries(s().rejected).flatMap(([channel, byReason]) =>
          Object.entries(byReason).map(([reason, n]): [Labels, number] => [{ channel, reason }, n]),
        ),
    );
    mirroredGauge(
      r,
      "open_swarm_api_sessions_open",
      "Solve API sessions held (running or kept for TTL)",
      [],
      () => one(s().api.sessionsOpen),
    );
    mirroredGauge(r, "open_swarm_api_solves_running", "Solve API solves running", [], () =>
      one(s().api.solvesRunning),
    );
    mirroredCounter(r, "open_swarm_api_sessions_started_total", "Solve API sessions started", [], () =>
      one(s().api.sessionsStarted),
    );
    mirroredCounter(
      r,
      "open_swarm_api_sessions_ended_total",
      "Solve API sessions by how they ended",
      ["outcome"],
      () => {
        const a = s().api;
        return [
          [{ outcome: "converged" }, a.sessionsConverged],
          [{ outcome: "failed" }, a.sessionsFailed],
          [{ outcome: "cancelled" }, a.sessionsCancelled],
          [{ outcome: "shutdown" }, a.sessionsShutdown],
        ];
      },
    );
    mirroredCounter(
      r,
      "open_swarm_api_iterations_streamed_total",
      "iteration_update events streamed",
      [],
      () => one(s().api.updatesStreamed),
    );
    mirroredCounter(
      r,
      "open_swarm_api_updates_coalesced_total",
      "iteration_update events replaced for a slow reader",
      [],
      () => one(s().api.updatesCoalesced),
    );
    mirroredCounter(
      r,
      "open_swarm_api_verifications_total",
      "Random-probe verifications by verdict against the session's tolerance",
      ["verdict"],
      () => {
        const a = s().api;
        return [
          [{ verdict: "passed" }, a.verifications - a.verificationsFailed],
          [{ verdict: "failed" }, a.verificationsFailed],
        ];
      },
    );
    registerSwarmSeries(r, { snapshot: s, peers: deps.peers });
    this.requestSeconds = new Histogram({
      name: "open_swarm_http_request_duration_seconds",
      help: "HTTP request durations by method, route pattern and status class (streams: until their end)",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [r],
    });
  }

  /** Times every request, labelled by the route pattern it matched (routeOf), not its raw URL. */
  readonly observeHttp: RequestHandler = (req, res, next) => {
    const end = this.requestSeconds.startTimer();
    res.once("close", () =>
      end({ method: methodOf(req), route: routeOf(req), status: `${Math.floor(res.statusCode / 100)}xx` }),
    );
    next();
  };

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

function methodOf(req: Request): string {
  return METHODS.has(req.method) ? req.method : "OTHER";
}

/**
 * The route pattern a request matched (`/api/v1/status/:session_id`): Express leaves req.baseUrl and
 * req.route of the route that answered on the request. Requests no route answered (the static app,
 * PeerJS, unknown /api paths) go in a few fixed buckets by prefix.
 */
function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (typeof route?.path === "string") return `${req.baseUrl}${route.path}`;
  if (req.originalUrl.startsWith("/api/")) return "/api/(unmatched)";
  if (req.originalUrl.startsWith("/peerjs")) return "/peerjs";
  return "(static)";
}
