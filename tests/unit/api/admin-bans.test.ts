import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { banCreatedSchema, banLiftedSchema, banListSchema } from "../../../api/admin-routes.ts";
import { parseApiKeys } from "../../../api/keys.ts";
import type { Identity } from "../../../src/core/identity/identity.ts";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import {
  newClient,
  newIdentity,
  registerRawPeerJs,
  tryUpgrade,
  type TestServer,
} from "../signaling/helpers.ts";
import { bearer, call, post, refused, startApiServer, until } from "./helpers.ts";

// Admin bans against the real server with real directory clients: only an admin key may ban; a banned
// peer online is closed at once with an error it can show (and does not reconnect), is gone from GET
// /nodes and from other peers' directory queries, cannot join again nor register with PeerJS; lifting
// the ban lets it back; a ban with a TTL ends by itself; every step is counted.
const ADMIN = "admin-key-0123456789";
const READER = "reader-key-0123456789";
let t: TestServer;
const clients: DirectoryClient[] = [];

beforeAll(async () => {
  t = await startApiServer({ keys: parseApiKeys([`${ADMIN}:admin`, `${READER}:submit+read`]) });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await t.close();
});

/** A directory client of `identity` (a new one by default); `connect()` is left to the caller. */
async function clientOf(identity?: Identity, reconnect = false): Promise<DirectoryClient> {
  const client = newClient(t.directoryUrl, identity ?? (await newIdentity()), { reconnect });
  clients.push(client);
  return client;
}

const ban = (body: unknown, key = ADMIN): Promise<Response> =>
  post(t.baseUrl, "/api/v1/admin/bans", body, bearer(key));

async function nodeIds(): Promise<string[]> {
  const res = await call(t.baseUrl, "/api/v1/nodes?limit=500", bearer(READER));
  return ((await res.json()) as { nodes: { peer_id: string }[] }).nodes.map((n) => n.peer_id);
}

describe("admin bans", () => {
  it("are for admin keys only (403 otherwise) and refuse a bad body naming the field", async () => {
    const target = (await newIdentity()).peerId;
    await refused(await ban({ peer_id: target, reason: "spam" }, READER), 403, "insufficient_scope");
    await refused(await call(t.baseUrl, "/api/v1/admin/bans", bearer(READER)), 403, "insufficient_scope");
    await refused(
      await call(t.baseUrl, `/api/v1/admin/bans/${target}`, bearer(READER), "DELETE"),
      403,
      "insufficient_scope",
    );
    const badId = await refused(await ban({ peer_id: "not-a-peer", reason: "x" }), 400, "invalid_request");
    expect(badId.path).toBe("peer_id");
    const badTtl = await refused(
      await ban({ peer_id: target, reason: "x", ttl_seconds: -5 }),
      400,
      "invalid_request",
    );
    expect(badTtl.path).toBe("ttl_seconds");
    await refused(await ban({ peer_id: target, reason: "x", extra: 1 }), 400, "invalid_request");
    await refused(
      await call(t.baseUrl, `/api/v1/admin/bans/${target}`, bearer(ADMIN), "DELETE"),
      404,
      "unknown_ban",
    );
    expect(t.server.metrics().bans.added).toBe(0);
  });

  it("closes a banned peer's session for good, hides it, refuses its join and PeerJS, and lifts", async () => {
    const before = t.server.metrics();
    const identity = await newIdentity();
    const id = identity.peerId;
    // Reconnecting on: the ban's close must stop it (a final error), not start a retry loop.
    const banned = await clientOf(identity, true);
    await banned.connect();
    const other = await clientOf();
    await other.connect();
    const peerjs = await registerRawPeerJs(t.baseUrl, banned);
    expect(await nodeIds()).toContain(id);

    const res = await ban({ peer_id: id, reason: "sent wrong results" });
    expect(res.status).toBe(201);
    // Each answer parses with its documented (strict) schema: the OpenAPI document cannot drift from it.
    expect(banCreatedSchema.parse(await res.json())).toMatchObject({
      peer_id: id,
      session_closed: true,
      replaced: false,
      expires_at: null,
    });
    // The client is told why and gives up (a ban is final: no reconnect loop against it).
    const error = await banned.connect().then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error?.code).toBe("banned");
    expect(error?.message).toContain("sent wrong results");
    await peerjs.waitForClose();
    expect(await nodeIds()).not.toContain(id);
    expect((await other.query({}, 50)).peers.map((p) => p.peerId)).not.toContain(id);

    // The same key cannot come back, nor register with PeerJS under the id.
    const again = await clientOf(identity);
    await expect(again.connect()).rejects.toMatchObject({ code: "banned" });
    const peerjsUrl = `${t.baseUrl.replace(/^http/, "ws")}/peerjs/peerjs?key=peerjs&id=${id}&token=whatever-token`;
    expect(await tryUpgrade(peerjsUrl)).toBe(403);

    const listed = banListSchema.parse(
      await (await call(t.baseUrl, "/api/v1/admin/bans", bearer(ADMIN))).json(),
    );
    expect(listed.bans).toContainEqual(
      expect.objectContaining({ peer_id: id, reason: "sent wrong results" }),
    );
    const m = t.server.metrics();
    expect(m.bansActive).toBeGreaterThanOrEqual(1);
    expect(m.bans.added - before.bans.added).toBe(1);
    expect(m.bans.sessionsClosed - before.bans.sessionsClosed).toBe(1);
    expect(m.bans.joinsRefused - before.bans.joinsRefused).toBe(1);
    expect(m.rejected.upgrades["peerjs_banned"]).toBe(1);
    // A ban's close is a leave: joins minus leaves is still the peers online.
    expect(m.joins - m.leaves).toBe(m.peers);

    const lifted = await call(t.baseUrl, `/api/v1/admin/bans/${id}`, bearer(ADMIN), "DELETE");
    expect(banLiftedSchema.parse(await lifted.json())).toEqual({ peer_id: id, lifted: true });
    await (await clientOf(identity)).connect();
    expect(await nodeIds()).toContain(id);
    peerjs.ws.terminate();
  });

  it("a ban with ttl_seconds ends by itself", async () => {
    const target = (await newIdentity()).peerId;
    const res = await ban({ peer_id: target, reason: "cool down", ttl_seconds: 1 });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { banned_at: string; expires_at: string };
    expect(Date.parse(body.expires_at) - Date.parse(body.banned_at)).toBe(1_000);
    const listedIds = async (): Promise<string[]> =>
      (
        (await (await call(t.baseUrl, "/api/v1/admin/bans", bearer(ADMIN))).json()) as {
          bans: { peer_id: string }[];
        }
      ).bans.map((b) => b.peer_id);
    expect(await listedIds()).toContain(target);
    await until(async () => !(await listedIds()).includes(target), 10_000);
  });
});
