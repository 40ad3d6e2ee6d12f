import express, { type Express } from "express";
import type { AppContext, MountedApp } from "../signaling/config.ts";
import { authenticate, sessionFor } from "./access.ts";
import { DEFAULT_API_CONFIG, type ApiConfig } from "./config.ts";
import { mountDocsRoutes } from "./docs-routes.ts";
import { Drain } from "./drain.ts";
import { ApiError, apiErrorHandler } from "./errors.ts";
import { ApiLimits } from "./limits.ts";
import { SessionManager } from "./session-manager.ts";
import { mountSessionRoutes } from "./session-routes.ts";
import { mountStreamRoutes } from "./stream-routes.ts";
import { mountCostRoutes } from "./cost-routes.ts";
import { mountNodesRoutes } from "./nodes-routes.ts";
import { mountAdminRoutes } from "./admin-routes.ts";
import { apiWebSocket } from "./ws.ts";
import type { SwarmSettings } from "./swarm-config.ts";
import { ServerSwarm } from "./swarm-requester.ts";
import { ServerExperts } from "./server-experts.ts";
import { ownOrigin } from "./own-origin.ts";
import { unitOutcomes } from "./swarm-units.ts";
import type { ExpertJobs } from "./jobs/expert-jobs.ts";
import type { JobSettings } from "./jobs/job-config.ts";
import { JobManager } from "./jobs/job-manager.ts";
import { mountJobRoutes } from "./jobs/job-routes.ts";

export { apiConfigFromEnv, type ApiConfig } from "./config.ts";
export type { ExpertJobs } from "./jobs/expert-jobs.ts";

/**
 * The solve API on the server's app, under /api/v1 (docs/ARCHITECTURE.md, "The solve API"): solve-stream,
 * sessions/:id/events, status, verify, sessions/:id/x, and its OpenAPI document and docs page. The server calls this through its configureApp hook
 * (api/main.ts), so the signaling server itself never imports the solver. REST jobs (api/jobs/) run solves
 * on the swarm or the threads, and classify/onnx on the experts (`partial.experts`).
 */
export function mountApi(
  app: Express,
  context: AppContext,
  partial: Partial<Omit<ApiConfig, "swarm" | "jobs">> & {
    swarm?: Partial<SwarmSettings>;
    jobs?: Partial<JobSettings>;
    /** The classify and onnx jobs' experts: default the server's own (ServerExperts); null: none (those
     *  jobs answer 501 not_available); tests may give a stand-in. */
    experts?: ExpertJobs | null;
  } = {},
): MountedApp {
  const { experts, ...settings } = partial;
  const config: ApiConfig = {
    ...DEFAULT_API_CONFIG,
    ...settings,
    swarm: { ...DEFAULT_API_CONFIG.swarm, ...settings.swarm },
    jobs: { ...DEFAULT_API_CONFIG.jobs, ...settings.jobs },
  };
  const { metrics, logger } = context;
  // The swarm requester joins at the first session that may use it (api/swarm-requester.ts says why).
  const swarm = config.swarm.enabled ? new ServerSwarm(config.swarm, metrics, logger) : null;
  const manager = new SessionManager(config, metrics, logger, swarm);
  metrics.apiUnits = () => unitOutcomes(swarm, metrics.api);
  if (config.warm) manager.warm();
  const limits = new ApiLimits(config, context.trustProxy);
  const drain = new Drain(manager, config.drainMs, logger);
  const router = express.Router();
  // The classify and onnx jobs' requester (api/server-experts.ts), made at the first such job; it fetches
  // the models from, and joins the swarm through, the server's own address, learnt from a request.
  let origin: string | null = null;
  router.use((req, _res, next) => {
    origin ??= ownOrigin(req);
    next();
  });
  const serverExperts = new ServerExperts({ swarm, settings: config.swarm, origin: () => origin, logger });
  const jobs = new JobManager({
    config,
    metrics,
    logger,
    swarm,
    runOnThreads: (request, onUpdate) => manager.runOnThreads(request, onUpdate),
    experts: experts === undefined ? serverExperts : (experts ?? undefined),
    draining: () => drain.draining,
  });
  // Only the API's own paths: the rest of /api/v1 (health, config, metrics, datasets) keeps its rules.
  // Who calls (key or loopback) first, then that caller's and its address's rate (access.ts, limits.ts).
  const paths = ["/solve-stream", "/sessions", "/status", "/verify", "/swarm", "/nodes", "/admin", "/jobs"];
  router.use(paths, authenticate(config.keys, context.trustProxy), limits.admit);
  // POST bodies are JSON, up to the limit; anything else is refused before it is read.
  router.post(paths, (req, _res, next) => {
    if (req.is("application/json") !== "application/json") {
      throw new ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json");
    }
    next();
  });
  router.use(paths, express.json({ limit: config.maxBodyBytes }));
  mountStreamRoutes(router, {
    config,
    manager,
    limits,
    drain,
    onCoalesced: () => metrics.api.updatesCoalesced++,
  });
  mountSessionRoutes(router, manager);
  mountCostRoutes(router, (res, id) => sessionFor(res, manager.store, id, "submit"), metrics);
  mountNodesRoutes(router, context.directory, metrics);
  mountAdminRoutes(router, context.bans, logger);
  mountJobRoutes(router, jobs, config.jobs.maxResultValues);
  mountDocsRoutes(router);
  router.use(apiErrorHandler(metrics, (error) => logger.error({ event: "api_error", error: String(error) })));
  app.use("/api/v1", router);
  logger.info(
    { event: "api_mounted", keys: config.keys.length },
    config.keys.length > 0
      ? `solve API: ${config.keys.length} API key(s) configured; every caller sends Authorization: Bearer KEY`
      : "solve API: no API keys configured (OPEN_SWARM_API_KEYS), so it answers loopback callers only",
  );
  const websocket = apiWebSocket({
    keys: config.keys,
    trustProxy: context.trustProxy,
    store: manager.store,
    jobs: jobs.store,
    metrics,
  });
  return {
    websocket,
    ready: () => !drain.draining,
    drain: () => drain.run(),
    async close() {
      websocket.close();
      limits.close();
      // Jobs first: a solve job's turn on the threads or the swarm ends before those close.
      await jobs.close();
      await serverExperts.close();
      await manager.close();
    },
  };
}
