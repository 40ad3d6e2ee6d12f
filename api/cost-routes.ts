import type { Response, Router } from "express";
import { z } from "zod";
import { DEFAULT_MAILBOX_CAPACITY, type SystemUpdates } from "../src/core/solver/updates/index.ts";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { ApiError } from "./errors.ts";
import { zodError } from "./request.ts";
import type { Session } from "./session.ts";

/** Most entries one cost update may change (the solver thread's mailbox holds this many). */
export const MAX_UPDATE_ENTRIES = DEFAULT_MAILBOX_CAPACITY;

const index = z.number().int().nonnegative();
const value = z.number().finite();
const mode = z.enum(["set", "add"]).default("set");

/**
 * The seed's cost updates for a running session: `delta_costs` add to entries of b (a cost that changed by
 * delta), `rhs_updates` set or add entries of b, `matrix_updates` set or add entries of A (an entry outside
 * A's pattern is inserted). Applied by the solver at its next iteration boundary, with a warm restart from
 * the current x (core solver/updates/live.ts).
 */
export const costUpdateSchema = z
  .object({
    session_id: z.string().min(1).max(128),
    delta_costs: z
      .array(z.object({ index, delta: value }).strict())
      .max(MAX_UPDATE_ENTRIES)
      .default([]),
    rhs_updates: z.array(z.object({ index, value, mode }).strict()).max(MAX_UPDATE_ENTRIES).default([]),
    matrix_updates: z
      .array(z.object({ row: index, col: index, value, mode }).strict())
      .max(MAX_UPDATE_ENTRIES)
      .default([]),
  })
  .strict()
  .refine((u) => u.delta_costs.length + u.rhs_updates.length + u.matrix_updates.length > 0, {
    message: "give at least one of delta_costs, rhs_updates, matrix_updates",
  })
  .refine(
    (u) => u.delta_costs.length + u.rhs_updates.length + u.matrix_updates.length <= MAX_UPDATE_ENTRIES,
    {
      message: `at most ${MAX_UPDATE_ENTRIES} entries in one update`,
    },
  );

export type CostUpdateBody = z.infer<typeof costUpdateSchema>;

/** The body as the solver's updates, after checking every index against the session's n (400 naming the first bad one). */
export function systemUpdatesOf(body: CostUpdateBody, n: number): SystemUpdates {
  const check = (path: string, i: number): void => {
    if (i >= n)
      throw new ApiError(400, "index_out_of_range", `${path} is ${i}; the system has n = ${n}`, path);
  };
  body.delta_costs.forEach((d, k) => check(`delta_costs.${k}.index`, d.index));
  body.rhs_updates.forEach((u, k) => check(`rhs_updates.${k}.index`, u.index));
  body.matrix_updates.forEach((u, k) => {
    check(`matrix_updates.${k}.row`, u.row);
    check(`matrix_updates.${k}.col`, u.col);
  });
  return {
    matrix: body.matrix_updates.map((u) => ({ row: u.row, col: u.col, value: u.value, mode: u.mode })),
    rhs: [
      ...body.delta_costs.map((d) => ({ index: d.index, value: d.delta, mode: "add" as const })),
      ...body.rhs_updates.map((u) => ({ index: u.index, value: u.value, mode: u.mode })),
    ],
  };
}

/** POST /swarm/costs (scope submit, own sessions): 202 with the update's seq; its outcome comes on the stream. */
export function mountCostRoutes(
  router: Router,
  /** The caller's own session (or any, for admin), else 404 (access.ts sessionFor). */
  sessionOf: (res: Response, id: string) => Session,
  metrics: ServerMetrics,
): void {
  router.post("/swarm/costs", (req, res) => {
    const parsed = costUpdateSchema.safeParse(req.body);
    if (!parsed.success) throw zodError(parsed.error);
    const session = sessionOf(res, parsed.data.session_id);
    const updates = systemUpdatesOf(parsed.data, session.n);
    const posted = session.postUpdates(updates);
    switch (posted.result) {
      case "posted":
        metrics.api.costUpdates++;
        res.status(202).json({
          session_id: session.id,
          seq: posted.seq,
          matrix_entries: updates.matrix?.length ?? 0,
          rhs_entries: updates.rhs?.length ?? 0,
          note: "applied at the solver's next iteration boundary; the stream says update_applied (or update_rejected) with this seq",
        });
        return;
      case "busy":
        throw new ApiError(
          409,
          "update_pending",
          "the previous update has not reached the solver yet (it takes one per iteration): retry in a moment",
        );
      case "closed":
        throw new ApiError(
          409,
          "session_finished",
          `session ${session.id} is ${session.state}: updates apply to a running solve only; submit the updated system as a new solve`,
        );
      case "too_large":
        throw new ApiError(413, "update_too_large", `at most ${MAX_UPDATE_ENTRIES} entries in one update`);
    }
  });
}
