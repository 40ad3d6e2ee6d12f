import type { Router } from "express";
import { sessionFor } from "./access.ts";
import { ApiError } from "./errors.ts";
import { zodError } from "./request.ts";
import { verifyRequestSchema } from "./schemas.ts";
import type { SessionManager } from "./session-manager.ts";
import { mountPathOf, pathParam } from "./route-table.ts";

/**
 * GET /status/:id (read), POST /verify (submit), GET /sessions/:id/x (read), DELETE /sessions/:id (submit
 * for one's own, admin for any): a session's state, a fresh judged probe, its solution, its cancel. A key
 * reaches only its own sessions (access.ts); admin reaches all.
 */
export function mountSessionRoutes(router: Router, manager: SessionManager): void {
  const { store } = manager;

  router.get(mountPathOf("sessionStatus"), (req, res) => {
    const s = sessionFor(res, store, pathParam(req.params, "session_id"), "read");
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
      where: s.where,
      result: s.result,
    });
  });

  router.post(mountPathOf("verify"), (req, res) => {
    const parsed = verifyRequestSchema.safeParse(req.body);
    if (!parsed.success) throw zodError(parsed.error);
    const s = sessionFor(res, store, parsed.data.session_id, "submit");
    const check = s.verify(parsed.data.probe_count);
    if (check === null) {
      throw new ApiError(
        409,
        "no_iterate_yet",
        "the session has no iterate yet; ask again after its first update",
      );
    }
    res.json({ type: "verification_result", ...check, state: s.state, timestamp: new Date().toISOString() });
  });

  router.get(mountPathOf("sessionSolution"), (req, res) => {
    const s = sessionFor(res, store, pathParam(req.params, "session_id"), "read");
    if (s.state === "failed") {
      const error = (s.result?.["error"] ?? {}) as { code?: string; message?: string };
      throw new ApiError(
        409,
        "session_failed",
        `the session failed and has no solution: ${error.code ?? "error"}: ${error.message ?? "see GET /api/v1/status/:id"}`,
      );
    }
    if (s.running || s.x === null) {
      throw new ApiError(
        409,
        "not_finished",
        "x is served once the session has finished; GET /api/v1/status/:id says when",
      );
    }
    res.json({ session_id: s.id, state: s.state, n: s.n, iteration: s.xIteration, x: Array.from(s.x) });
  });

  // Cancel a running session (it stays for its TTL, state cancelled), or forget a finished one at once.
  router.delete(mountPathOf("sessionDelete"), async (req, res) => {
    const s = sessionFor(res, store, pathParam(req.params, "session_id"), "submit");
    const wasRunning = s.running;
    if (wasRunning) await manager.cancel(s, false);
    else store.delete(s.id);
    res.json({ session_id: s.id, state: s.state, cancelled: wasRunning, removed: !wasRunning });
  });
}
