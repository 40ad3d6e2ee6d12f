/**
 * bench:node-transport: two headless Node peers (src/node, libwebrtc data channels) through the real
 * signaling server on 127.0.0.1: time to join, time from the second join to an authenticated link (ICE,
 * DTLS, SCTP and the mutual handshake), and the rate of 1 MiB blobs acknowledged by digest. 3 runs.
 * Usage: npm run bench:node-transport
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer } from "../signaling/server.ts";
import { FileIdentityStore } from "../src/node/identity-file.ts";
import { startNodeSwarm } from "../src/node/node-swarm.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bench-node-transport-"));
writeFileSync(path.join(dir, "index.html"), "<!doctype html>");
const server = await startServer({ port: 0, host: "127.0.0.1", staticDir: dir, logLevel: "silent" });
const BLOBS = 8;
const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
for (let run = 0; run < 3; run++) {
  const store = (name: string): FileIdentityStore => new FileIdentityStore(path.join(dir, `${name}${run}`));
  const a = await startNodeSwarm({ server: server.url, identityStore: store("a") });
  const t0 = performance.now();
  const b = await startNodeSwarm({ server: server.url, identityStore: store("b") });
  const joinedMs = performance.now();
  await a.mesh.waitForPeer(b.identity.peerId, 20_000);
  const linkMs = performance.now() - joinedMs;
  const t1 = performance.now();
  for (let i = 0; i < BLOBS; i++) await a.mesh.sendBlob(b.identity.peerId, bytes);
  const rate = BLOBS / ((performance.now() - t1) / 1000);
  console.log(
    `run ${run}: join ${Math.round(joinedMs - t0)} ms, link ${Math.round(linkMs)} ms, ` +
      `${BLOBS} x 1 MiB blobs ${rate.toFixed(1)} MiB/s`,
  );
  a.close();
  b.close();
}
await server.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
