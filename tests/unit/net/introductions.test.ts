import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { Introductions } from "../../../src/core/net/introductions.ts";
import { newClient, newIdentity, startTestServer, waitFor, type TestServer } from "../signaling/helpers.ts";

// Issue 12.4: a distributed block holder wants a link to a neighbouring holder the directory never
// introduced it to (two volunteers of one requester in a large swarm). Over the real server: the
// introduction acquaints both sides, so each lists the other (and its mesh would admit or dial the link).

let t: TestServer;
const clients: DirectoryClient[] = [];

beforeAll(async () => {
  // A sample of 1: each newcomer is acquainted with one peer, so most pairs are strangers.
  t = await startTestServer({ logLevel: "silent", directorySampleSize: 1, directoryTickMs: 20 });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await t.close();
});

async function join(): Promise<DirectoryClient> {
  // minKnownPeers 0: no automatic request for more peers, so acquaintances are the welcome's only.
  const client = newClient(t.directoryUrl, await newIdentity(), { minKnownPeers: 0 });
  clients.push(client);
  await client.connect();
  return client;
}

const id = (c: DirectoryClient) => c.self!.peerId;
const knows = (c: DirectoryClient, other: DirectoryClient) => c.peers.some((p) => p.peerId === id(other));

describe("introductions to a peer one works with", () => {
  it("acquaints two strangers both ways, and asks nothing for a peer already known", async () => {
    const peers: DirectoryClient[] = [];
    for (let i = 0; i < 5; i++) peers.push(await join());
    // Forced: a pair that neither side knows (4 acquaintances among 10 pairs leave at least 6).
    const pairs = peers.flatMap((x, i) => peers.slice(i + 1).map((y) => [x, y] as const));
    const [x, y] = pairs.find(([p, q]) => !knows(p, q) && !knows(q, p))!;
    const intro = new Introductions(x);
    intro.ask(id(y));
    intro.ask(id(y)); // the same task: one subscription
    await waitFor(() => knows(x, y), "the asker to list the stranger");
    await waitFor(() => knows(y, x), "the stranger to hear of the asker");
    await waitFor(() => intro.stats.answered === 1, "the introduction to be answered");
    expect(intro.stats).toEqual({ asked: 1, answered: 1, failed: 0 });
    intro.ask(id(y)); // known now
    await Promise.resolve();
    expect(intro.stats.asked).toBe(1);
  });
});
