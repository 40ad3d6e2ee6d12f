import { afterEach, describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startTestServer, type TestServer } from "../signaling/helpers.ts";
import { FileIdentityStore } from "../../../src/node/identity-file.ts";
import { startNodeSwarm } from "../../../src/node/node-swarm.ts";
import type { Swarm } from "../../../src/core/net/swarm.ts";

/** Waits on a condition (no fixed sleeps): polls until true or the deadline. */
async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Node peers over libwebrtc (real signaling server, real data channels on loopback)", () => {
  let server: TestServer | null = null;
  const swarms: Swarm[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of swarms.splice(0)) s.close();
    await server?.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("two Node peers join, link, authenticate and exchange a job-sized message", async () => {
    server = await startTestServer();
    const dir = mkdtempSync(path.join(tmpdir(), "os-node-"));
    dirs.push(dir);
    const [a, b] = await Promise.all(
      ["a", "b"].map((n) =>
        startNodeSwarm({ server: server!.baseUrl, identityStore: new FileIdentityStore(path.join(dir, n)) }),
      ),
    );
    swarms.push(a!, b!);
    // Node peers run the overlay (dial on demand): a has work with b, so it dials once b is known.
    a!.mesh.want(b!.identity.peerId, "test");
    await until(() => a!.mesh.connectedPeerIds().includes(b!.identity.peerId));
    await until(() => b!.mesh.connectedPeerIds().includes(a!.identity.peerId));
    const received: string[] = [];
    b!.mesh.on("blob", (blob) => received.push(blob.sha256));
    const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
    const receipt = await a!.mesh.sendBlob(b!.identity.peerId, bytes);
    expect(receipt.byteLength).toBe(bytes.length);
    await until(() => received.includes(receipt.sha256));
  }, 30_000);

  it("keeps the identity in its file across restarts and refuses a file others can read", async () => {
    server = await startTestServer();
    const dir = mkdtempSync(path.join(tmpdir(), "os-node-"));
    dirs.push(dir);
    const file = path.join(dir, "sub", "identity.json");
    const first = await startNodeSwarm({
      server: server.baseUrl,
      identityStore: new FileIdentityStore(file),
    });
    const firstId = first.identity.peerId;
    first.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await startNodeSwarm({
      server: server.baseUrl,
      identityStore: new FileIdentityStore(file),
    });
    swarms.push(again);
    expect(again.identity.peerId).toBe(firstId);
    chmodSync(file, 0o644);
    await expect(
      startNodeSwarm({ server: server.baseUrl, identityStore: new FileIdentityStore(file) }),
    ).rejects.toThrow(/mode is 644, readable by others/);
  }, 30_000);
});
