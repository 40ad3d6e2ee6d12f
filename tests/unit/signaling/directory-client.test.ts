import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { capabilities, newClient, newIdentity, waitFor } from "./helpers.ts";

/**
 * Fault injection: a fake directory server (named as such) that welcomes every join and then goes silent,
 * like a server on the far side of a dropped network or a laptop that slept.
 */
async function startFakeSilentDirectory(): Promise<{
  url: string;
  connections: () => number;
  close(): void;
}> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  let connections = 0;
  wss.on("connection", (ws) => {
    connections++;
    ws.send(JSON.stringify({ v: 2, type: "challenge", nonce: "n".repeat(43) }));
    ws.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; peerId: string; publicKey: string };
      if (message.type !== "join") return; // pings go unanswered
      const self = {
        peerId: message.peerId,
        publicKey: message.publicKey,
        capabilities: capabilities(),
        joinedAtMs: 1,
      };
      ws.send(
        JSON.stringify({ v: 2, type: "welcome", sessionToken: "t".repeat(43), self, peers: [], total: 0 }),
      );
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/api/v1/directory`,
    connections: () => connections,
    close: () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("DirectoryClient", () => {
  it("detects a silent server from its own unanswered ping and reconnects", async () => {
    const fake = await startFakeSilentDirectory();
    cleanups.push(fake.close);
    const client: DirectoryClient = newClient(fake.url, await newIdentity(), {
      reconnect: true,
      pingIntervalMs: 50,
      reconnectMinDelayMs: 20,
      reconnectMaxDelayMs: 40,
    });
    cleanups.push(() => client.close());
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    await client.connect();
    expect(client.sessionToken).toBe("t".repeat(43));
    await waitFor(() => fake.connections() >= 2, "a reconnect after the heartbeat timeout", 3_000);
    expect(statuses.slice(0, 4)).toEqual(["connecting", "connected", "disconnected", "connecting"]);
  });

  it("rejects connect() when nothing listens and reconnect is off", async () => {
    const client = newClient("ws://127.0.0.1:1/api/v1/directory", await newIdentity());
    await expect(client.connect()).rejects.toMatchObject({ code: "transport" });
    expect(client.currentStatus).toBe("disconnected");
  });

  it("rejects connect() after close()", async () => {
    const client = newClient("ws://127.0.0.1:1/api/v1/directory", await newIdentity(), { reconnect: true });
    const pending = client.connect();
    client.close();
    await expect(pending).rejects.toMatchObject({ code: "closed" });
    await expect(client.connect()).rejects.toMatchObject({ code: "closed" });
  });
});
