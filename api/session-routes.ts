import type { Router } from "express";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { ApiError } from "./errors.ts";
import { zodError } from "./request.ts";
import { verifyRequestSchema } from "./schemas.ts";
import type { SessionManager } from "./session-manager.ts";
import { unknownSession } from "./stream-routes.ts";

/** GET /status/:id, POST /verify, GET /sessions/:id/x: a session's state, a fresh probe, its solution. */
export function mountSessionRoutes(router: Router, manager: SessionManager, metrics: ServerMetrics): void {
  const sessionOf = (id: string | undefined) => {
    const session = manager.store.get(id ?? "");
    if (session === undefined) throw unknownSession();
    return session;
  };

  router.get("/status/:session_id", (req, res) => {
    const s = sessionOf(req.params.session_id);
    res.setHeader("Cache-Control", "no-store");
    res.json({
      session_id: s.id,
      state: s.state,
      method: s.method,
      n: s.n,
      nnz: s.nnz,
      iteration: s.iteration,
      residual_norm: s.residualNorm,
      created_at: new Date(s.createdAtMs).toISOString(),
      elapsed_ms: (s.finishedAtMs ?? Date.now()) - s.createdAtMs,
      detach: s.options.detach,
      clients: s.listenerCount,
      last_event_id: s.events.lastId,
      where: "server",
      result: s.result,
    });
  });

  router.post("/verify", (req, res) => {
    const parsed = verifyRequestSchema.safeParse(req.body);
    if (!parsed.success) throw zodError(parsed.error);
    const s = sessionOf(parsed.data.session_id);
    const check = s.verify(parsed.data.probe_count);
    if (check === null) {
      throw new ApiError(
        409,
        "no_iterate_yet",
        "the session has no iterate yet; ask again after its first update",
      );
    }
    metrics.api.verifications++;
    res.json({ type: "verification_result", ...check, state: s.state, timestamp: new Date().toISOString() });
  });

  router.get("/sessions/:session_id/x", (req, res) => {
    const s = sessionOf(req.params.session_id);
    if (s.running || s.x === null) {
      throw new ApiError(
        409,
        "not_finished",
        "x is served once the session has finished; GET /api/v1/status/:id says when",
      );
    }
    res.json({ session_id: s.id, state: s.state, n: s.n, iteration: s.xIteration, x: Array.from(s.x) });
  });
}
