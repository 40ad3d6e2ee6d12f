import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseApiKeys } from "../../../api/keys.ts";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import type { Capabilities } from "../../../src/core/protocol/capabilities.ts";
import { capabilities, newClient, newIdentity, type TestServer } from "../signaling/helpers.ts";
import { bearer, call, refused, startApiServer } from "./helpers.ts";

// GET /api/v1/swarm and /api/v1/nodes against the real server with real signed directory joins: the
// counts follow who is online (and how they announced themselves), pages walk every node once, a node that
// leaves is gone, and the scope rule holds (a submit-only key cannot list nodes).
const READER = "reader-key-012345678";
const SUBMITTER = "submit-key-012345678";
let t: TestServer;
let clients: DirectoryClient[] = [];

beforeAll(async () => {
  t = await startApiServer({ keys: parseApiKeys([`${READER}:read`, `${SUBMITTER}:submit`]) });
});
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
});
afterAll(async () => {
  await t.close();
});

async function join(caps: Capabilities): Promise<string> {
  const client = newClient(t.directoryUrl, await newIdentity(), { capabilities: caps });
  clients.push(client);
  await client.connect();
  return client.self!.peerId;
}

async function json(path: string, key = READER): Promise<Record<string, unknown>> {
  const res = await call(t.baseUrl, path, bearer(key));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("swarm status and nodes", () => {
  it("counts peers by kind from what they announced; lists, pages and shows nodes; a leaver is gone", async () => {
    const browsers = await Promise.all([
      join(capabilities({ runtime: "browser", hardwareConcurrency: 4 })),
      join(capabilities({ runtime: "browser", hardwareConcurrency: 2, busy: true })),
    ]);
    const nodeVolunteer = await join(
      capabilities({ runtime: "node", hardwareConcurrency: 8, experts: ["e0"] }),
    );
    const requester = await join(capabilities({ runtime: "node", volunteer: false }));

    const swarm = await json("/api/v1/swarm");
    expect(swarm["peers"]).toEqual({
      total: 4,
      browser: 2,
      node: 2,
      volunteers: 3,
      requester_only: 1,
      busy: 1,
      webgpu: 0,
    });
    expect(swarm).toMatchObject({ volunteer_cores: 14, expert_hosts: 1, self_reported: true });

    // Two pages of 2 list each node exactly once, in id order.
    const first = await json("/api/v1/nodes?limit=2");
    expect(first["total"]).toBe(4);
    const second = await json(`/api/v1/nodes?limit=2&after=${String(first["next"])}`);
    expect(second["next"]).toBeNull();
    const ids = [
      ...(first["nodes"] as { peer_id: string }[]),
      ...(second["nodes"] as { peer_id: string }[]),
    ].map((n) => n.peer_id);
    expect(ids).toEqual([...browsers, nodeVolunteer, requester].sort());
    const volunteersOnly = await json("/api/v1/nodes?volunteers=true&runtime=node");
    expect((volunteersOnly["nodes"] as { peer_id: string }[]).map((n) => n.peer_id)).toEqual([nodeVolunteer]);
    expect(await json(`/api/v1/nodes/${nodeVolunteer}`)).toMatchObject({
      peer_id: nodeVolunteer,
      runtime: "node",
      volunteer: true,
      cores: 8,
      experts: ["e0"],
    });

    // The requester leaves: it is no node any more.
    const leaving = clients.find((c) => c.self!.peerId === requester)!;
    leaving.close();
    const deadline = Date.now() + 10_000;
    while ((await call(t.baseUrl, `/api/v1/nodes/${requester}`, bearer(READER))).status !== 404) {
      if (Date.now() > deadline) throw new Error("the leaver is still listed");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(((await json("/api/v1/swarm"))["peers"] as Record<string, number>)["total"]).toBe(3);
  });

  it("refuses bad queries, unknown nodes and keys without the read scope", async () => {
    await refused(await call(t.baseUrl, "/api/v1/nodes?limit=0", bearer(READER)), 400, "invalid_request");
    await refused(
      await call(t.baseUrl, "/api/v1/nodes?limit=100000", bearer(READER)),
      400,
      "invalid_request",
    );
    await refused(await call(t.baseUrl, "/api/v1/nodes?sort=speed", bearer(READER)), 400, "invalid_request");
    await refused(await call(t.baseUrl, "/api/v1/nodes/nobody", bearer(READER)), 404, "unknown_node");
    await refused(await call(t.baseUrl, "/api/v1/swarm", bearer(SUBMITTER)), 403, "insufficient_scope");
    await refused(await call(t.baseUrl, "/api/v1/nodes", bearer(SUBMITTER)), 403, "insufficient_scope");
    await refused(await call(t.baseUrl, "/api/v1/swarm"), 401, "missing_api_key");
  });
});
