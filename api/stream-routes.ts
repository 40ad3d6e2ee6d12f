import type { Request, Response, Router } from "express";
import { requireScope, sessionFor } from "./access.ts";
import type { ApiConfig } from "./config.ts";
import type { Drain } from "./drain.ts";
import { ApiError } from "./errors.ts";
import { EventStream, formatOf } from "./event-stream.ts";
import type { ApiLimits } from "./limits.ts";
import { parseSolveRequest } from "./request.ts";
import type { Session } from "./session.ts";
import type { SessionManager } from "./session-manager.ts";
import { mountPathOf, pathParam } from "./route-table.ts";
import { ownOrigin } from "./own-origin.ts";

export interface StreamDeps {
  readonly config: ApiConfig;
  readonly manager: SessionManager;
  readonly limits: ApiLimits;
  readonly drain: Drain;
  readonly onCoalesced: () => void;
}

/** Streams `session`'s events from `afterId` on to `res` until the session ends or the client leaves. */
function pipe(
  session: Session,
  stream: EventStream,
  afterId: number,
  res: Response,
  onClose: () => void,
): void {
  const replay = session.events.since(afterId) ?? [];
  for (const event of replay) stream.send(event);
  if (!session.running) {
    stream.end();
    res.on("close", onClose);
    return;
  }
  const unlisten = session.listen(
    (event) => stream.send(event),
    () => stream.end(),
  );
  res.on("close", () => {
    unlisten();
    onClose();
  });
}

function lastEventId(req: Request): number {
  const query = req.query["last_event_id"];
  const raw = req.header("last-event-id") ?? (typeof query === "string" ? query : "0");
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new ApiError(
      400,
      "bad_last_event_id",
      `Last-Event-ID must be a non-negative integer, got "${raw.slice(0, 40)}"`,
    );
  }
  return id;
}

/**
 * POST /solve-stream: starts a session and streams it (NDJSON, or SSE for Accept: text/event-stream). The
 * client that started a session owns it: when it disconnects before the end, the session is cancelled and
 * removed, unless it asked for options.detach. GET /sessions/:id/events: (re)attach to a session, from
 * Last-Event-ID on (SSE resume); a watcher leaving never cancels.
 */
export function mountStreamRoutes(router: Router, deps: StreamDeps): void {
  const { manager, limits, drain } = deps;
  router.post(mountPathOf("solveStream"), (req, res) => {
    const caller = requireScope(res, "submit");
    const parsed = parseSolveRequest(req.body, { maxRows: deps.config.maxRows, maxNnz: deps.config.maxNnz });
    const release = limits.openStream(req, res);
    let session: Session;
    try {
      session = manager.start(parsed, caller.owner, ownOrigin(req));
    } catch (error) {
      release();
      throw error;
    }
    res.setHeader("X-Session-Id", session.id);
    drain.track(res);
    const stream = new EventStream(res, formatOf(req.header("accept")), deps.onCoalesced);
    pipe(session, stream, 0, res, () => {
      release();
      if (session.running && !session.options.detach) void manager.cancel(session, true);
    });
  });

  router.get(mountPathOf("sessionEvents"), (req, res) => {
    const session = sessionFor(res, manager.store, pathParam(req.params, "session_id"), "read");
    const afterId = lastEventId(req);
    if (session.events.since(afterId) === null) {
      throw new ApiError(
        410,
        "replay_expired",
        `events after ${afterId} have left the replay buffer (${deps.config.replayEvents} events); status and x are still available`,
      );
    }
    const release = limits.openStream(req, res);
    drain.track(res);
    const stream = new EventStream(res, formatOf(req.header("accept")), deps.onCoalesced);
    pipe(session, stream, afterId, res, release);
  });
}
