import type { Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { PEER_ID_PATTERN } from "../src/core/protocol/ids.ts";
import type { BanControl } from "../signaling/config.ts";
import type { PeerBan } from "../signaling/directory/bans.ts";
import { requireScope } from "./access.ts";
import { ApiError } from "./errors.ts";
import { zodError } from "./request.ts";

/** Longest ban: a year (a longer one is a mistake; the ban is also gone when the process restarts). */
const MAX_BAN_TTL_S = 365 * 24 * 3600;
const peerId = z.string().min(1).max(64).regex(PEER_ID_PATTERN);

/** POST /admin/bans: whom to ban, why (shown to the banned peer), for how long (absent: until lifted). */
export const banRequestSchema = z.strictObject({
  peer_id: peerId,
  reason: z.string().trim().min(1).max(200),
  ttl_seconds: z.number().int().positive().max(MAX_BAN_TTL_S).optional(),
});

const timestamp = z.iso.datetime();

/** One ban as the admin API shows it. */
export const banSchema = z.strictObject({
  peer_id: z.string(),
  reason: z.string(),
  banned_at: timestamp,
  expires_at: timestamp.nullable().describe("null: until lifted (or until the server process restarts)"),
});

export const banCreatedSchema = z.strictObject({
  ...banSchema.shape,
  replaced: z.boolean().describe("the id was already banned: this reason and expiry replace the old"),
  session_closed: z.boolean().describe("the peer was online: its directory session was closed now"),
});

export const banListSchema = z.strictObject({ total: z.number().int(), bans: z.array(banSchema) });

export const banLiftedSchema = z.strictObject({ peer_id: z.string(), lifted: z.literal(true) });

function banOf(ban: PeerBan): z.infer<typeof banSchema> {
  return {
    peer_id: ban.peerId,
    reason: ban.reason,
    banned_at: new Date(ban.bannedAtMs).toISOString(),
    expires_at: ban.expiresAtMs === null ? null : new Date(ban.expiresAtMs).toISOString(),
  };
}

/**
 * The admin routes (scope `admin` only): ban a peer id at the directory, lift a ban, list the bans. The
 * ban itself is the directory's (signaling/directory/bans.ts); this is its HTTP face. Bans live in the
 * server's memory: a restart forgets them (the server has no store of its own).
 */
export function mountAdminRoutes(router: Router, bans: BanControl, logger: Logger): void {
  router.post("/admin/bans", (req, res) => {
    const caller = requireScope(res, "admin");
    const parsed = banRequestSchema.safeParse(req.body);
    if (!parsed.success) throw zodError(parsed.error);
    const { peer_id, reason, ttl_seconds } = parsed.data;
    const outcome = bans.ban(peer_id, reason, ttl_seconds ?? null);
    if (outcome === null) {
      throw new ApiError(409, "ban_list_full", "the ban list is full: lift or let expire some bans first");
    }
    logger.info({ event: "api_ban", peerId: peer_id, by: caller.keyId ?? caller.owner });
    res.status(201).json({
      ...banOf(outcome.ban),
      replaced: outcome.replaced,
      session_closed: outcome.sessionClosed,
    });
  });

  router.get("/admin/bans", (_req, res) => {
    requireScope(res, "admin");
    const list = bans.list().sort((a, b) => a.bannedAtMs - b.bannedAtMs);
    res.setHeader("Cache-Control", "no-store");
    res.json({ total: list.length, bans: list.map(banOf) });
  });

  router.delete("/admin/bans/:peer_id", (req, res) => {
    const caller = requireScope(res, "admin");
    const id = req.params.peer_id ?? "";
    if (!bans.lift(id)) throw new ApiError(404, "unknown_ban", "that peer id is not banned");
    logger.info({ event: "api_unban", peerId: id, by: caller.keyId ?? caller.owner });
    res.json({ peer_id: id, lifted: true });
  });
}
