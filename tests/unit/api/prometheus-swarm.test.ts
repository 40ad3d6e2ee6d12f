import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { capabilities, newClient, newIdentity, type TestServer } from "../signaling/helpers.ts";
import { post, startApiServer } from "./helpers.ts";
import { scrapeMetrics, value, type Scrape } from "./prometheus-text.ts";

// The swarm's series in GET /metrics, scraped from a real server with real directory clients: each exists
// with its type and moves when this test makes the thing it counts happen (a volunteer and a requester-only
// peer join, a directory query, a ban that closes a session, a join the ban refuses). Every assertion is a
// difference between two scrapes around the action, so nothing depends on what ran before.
let t: TestServer;
const clients: DirectoryClient[] = [];

beforeAll(async () => {
  t = await startApiServer();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await t.close();
});

const scrape = (): Promise<Scrape> => scrapeMetrics(t.baseUrl);

/** `name{labels}` in `after` minus in `before`. */
const moved = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number =>
  value(after.samples, name, labels) - value(before.samples, name, labels);

describe("Prometheus: the swarm as the server sees it", () => {
  it("has the new series, typed, and they move with joins, queries and bans", async () => {
    const before = await scrape();
    const volunteerId = await newIdentity();
    const volunteer = newClient(t.directoryUrl, volunteerId);
    const requester = newClient(t.directoryUrl, await newIdentity(), {
      capabilities: capabilities({ volunteer: false }),
    });
    clients.push(volunteer, requester);
    await Promise.all([volunteer.connect(), requester.connect()]);
    await requester.query({}, 10);

    const joined = await scrape();
    expect(moved(before, joined, "open_swarm_directory_joins_total")).toBe(2);
    expect(moved(before, joined, "open_swarm_peers_by_kind", { kind: "volunteer" })).toBe(1);
    expect(moved(before, joined, "open_swarm_peers_by_kind", { kind: "requester_only" })).toBe(1);
    expect(moved(before, joined, "open_swarm_directory_queries_total", { result: "answered" })).toBe(1);

    const banned = await post(t.baseUrl, "/api/v1/admin/bans", {
      peer_id: volunteerId.peerId,
      reason: "test",
    });
    expect(banned.status).toBe(201);
    const again = newClient(t.directoryUrl, volunteerId);
    clients.push(again);
    await expect(again.connect()).rejects.toMatchObject({ code: "banned" });

    const after = await scrape();
    expect(moved(joined, after, "open_swarm_bans_active")).toBe(1);
    expect(moved(joined, after, "open_swarm_bans_total", { action: "added" })).toBe(1);
    expect(moved(joined, after, "open_swarm_bans_sessions_closed_total")).toBe(1);
    expect(moved(joined, after, "open_swarm_bans_joins_refused_total")).toBe(1);
    expect(moved(joined, after, "open_swarm_directory_leaves_total")).toBe(1);
    expect(moved(joined, after, "open_swarm_peers_by_kind", { kind: "volunteer" })).toBe(-1);
    const refusedJoin = { channel: "messages", reason: "banned" };
    expect(moved(joined, after, "open_swarm_rejections_total", refusedJoin)).toBe(1);

    for (const [name, type] of [
      ["open_swarm_peers_by_kind", "gauge"],
      ["open_swarm_directory_queries_total", "counter"],
      ["open_swarm_directory_subscriptions", "gauge"],
      ["open_swarm_api_units_total", "counter"],
      ["open_swarm_verification_failures_total", "counter"],
      ["open_swarm_bans_active", "gauge"],
      ["open_swarm_bans_total", "counter"],
      ["open_swarm_bans_joins_refused_total", "counter"],
      ["open_swarm_bans_sessions_closed_total", "counter"],
    ] as const) {
      expect(after.types.get(name), name).toBe(type);
    }
    // Every unit outcome is a series from the start (0 until it happens), so a dashboard can rate() it.
    const outcomes = after.samples
      .filter((s) => s.name === "open_swarm_api_units_total")
      .map((s) => s.labels["outcome"]);
    expect(outcomes).toEqual(
      expect.arrayContaining(["verified", "rejected", "timed_out", "recomputed_on_server"]),
    );
  });
});
