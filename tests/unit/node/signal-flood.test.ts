import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import wrtc from "@roamhq/wrtc";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { FileIdentityStore } from "../../../src/node/identity-file.ts";
import { startNodeSwarm, type NodeSwarm } from "../../../src/node/node-swarm.ts";
import type { SignalGuardLimits } from "../../../src/node/signal-guard.ts";
import {
  newClient,
  newIdentity,
  registerRawPeerJs,
  startTestServer,
  waitFor,
  type RawSocket,
  type TestServer,
} from "../signaling/helpers.ts";

// A modified client floods a real Node peer with OFFER and CANDIDATE frames through the real server, under
// many identities (each a real directory join with its Ed25519 proof). Caps are set small here so a few
// identities exceed every one of them; the defaults are the same shape (signal-guard.ts).
const LIMITS: Partial<SignalGuardLimits> = {
  offerBurst: 2,
  // Effectively no refill during the test: exactly `offerBurst` offers per identity pass the rate limit.
  offerRatePerS: 0.001,
  maxPendingPerRemote: 1,
  maxPendingTotal: 4,
  maxCandidatesPerLink: 8,
  maxHeldCandidatesTotal: 16,
  maxSdpChars: 16 * 1024,
};
const ATTACKERS = 8;
const OFFERS_EACH = 6;
const CANDIDATES_EACH = 20;

/** A real offer SDP (libwebrtc's own), so an admitted offer really costs the victim a peer connection. */
async function realOfferSdp(): Promise<string> {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  pc.createDataChannel("flood");
  const offer = await pc.createOffer();
  pc.close();
  return offer.sdp!;
}

function offerFrame(dst: string, connectionId: string, sdp: string): Record<string, unknown> {
  const payload = { sdp: { type: "offer", sdp }, type: "data", connectionId, serialization: "raw" };
  return { type: "OFFER", dst, payload };
}

function candidateFrame(dst: string, connectionId: string, i: number): Record<string, unknown> {
  const candidate = `candidate:${i} 1 udp 2122260223 192.0.2.${1 + (i % 200)} ${9000 + i} typ host`;
  const payload = { candidate: { candidate, sdpMid: "0", sdpMLineIndex: 0 }, type: "data", connectionId };
  return { type: "CANDIDATE", dst, payload };
}

describe("a Node peer under an OFFER/CANDIDATE flood (real server, real libwebrtc)", () => {
  let server: TestServer | null = null;
  const swarms: NodeSwarm[] = [];
  const clients: DirectoryClient[] = [];
  const raws: RawSocket[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const r of raws.splice(0)) r.ws.terminate();
    for (const c of clients.splice(0)) c.close();
    for (const s of swarms.splice(0)) s.close();
    await server?.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("holds its caps, counts every refused frame, and still links with an honest peer", async () => {
    // Frames up to 32 KiB pass the server, so the Node peer's own SDP cap is what refuses the big one.
    server = await startTestServer({ peerjsMaxFrameBytes: 32 * 1024 });
    const dir = mkdtempSync(path.join(tmpdir(), "os-flood-"));
    dirs.push(dir);
    const node = (name: string) =>
      startNodeSwarm({
        server: server!.baseUrl,
        identityStore: new FileIdentityStore(path.join(dir, name)),
        signalLimits: LIMITS,
      });
    const victim = await node("victim");
    swarms.push(victim);
    const target = victim.identity.peerId;
    const sdp = await realOfferSdp();

    const attackers = await Promise.all(
      Array.from({ length: ATTACKERS }, async () => {
        const client = newClient(server!.directoryUrl, await newIdentity());
        clients.push(client);
        await client.connect();
        const raw = await registerRawPeerJs(server!.baseUrl, client);
        raws.push(raw);
        return raw;
      }),
    );
    for (const [a, raw] of attackers.entries()) {
      raw.send(offerFrame(target, `dc_big${a}`, "v".repeat(20 * 1024)));
      for (let i = 0; i < OFFERS_EACH; i++) raw.send(offerFrame(target, `dc_a${a}o${i}`, sdp));
      for (let i = 0; i < CANDIDATES_EACH; i++) raw.send(candidateFrame(target, `dc_a${a}o0`, i));
    }

    const offersSent = ATTACKERS * (OFFERS_EACH + 1);
    const candidatesSent = ATTACKERS * CANDIDATES_EACH;
    // Every attacker frame has reached the victim: candidates either reached a connection or were refused
    // for naming none (it was refused, evicted or closed).
    const stats = () => victim.transport.signaling();
    await waitFor(
      () =>
        stats().offersIn === offersSent &&
        stats().candidatesIn + stats().rejections.unknownConnection === candidatesSent,
      "every flood frame at the victim",
      20_000,
    );
    const s = stats();
    const r = s.rejections;
    expect(r.oversizeSdp).toBe(ATTACKERS);
    // Each identity's bucket paid for `offerBurst` offers; the rest of its valid offers were refused.
    expect(r.offerRateLimited).toBe(ATTACKERS * (OFFERS_EACH - LIMITS.offerBurst!));
    // Every offer was admitted or refused with a counted cause.
    expect(s.offersAdmitted + r.oversizeSdp + r.offerRateLimited + r.pendingPerRemoteCap).toBe(offersSent);
    // At most `maxCandidatesPerLink` candidates of one connection were taken: the rest were refused.
    const candidateRefusals = r.candidateFlood + r.heldCandidatesCap + r.unknownConnection;
    expect(candidateRefusals).toBeGreaterThanOrEqual(
      candidatesSent - ATTACKERS * LIMITS.maxCandidatesPerLink!,
    );
    // The caps held at every moment, not only now.
    expect(s.peakPending).toBeLessThanOrEqual(LIMITS.maxPendingTotal!);
    expect(s.peakPendingPerRemote).toBeLessThanOrEqual(LIMITS.maxPendingPerRemote!);
    expect(s.peakHeldCandidates).toBeLessThanOrEqual(LIMITS.maxHeldCandidatesTotal!);
    // Native peer connections held: the flood's never open, so only the negotiating ones remain.
    expect(victim.transport.linkCount).toBeLessThanOrEqual(LIMITS.maxPendingTotal!);
    expect(s.rejected).toBe(Object.values(r).reduce((sum, n) => sum + n, 0));

    // An honest peer still links (its offer takes a slot even while the flood's connections negotiate).
    const honest = await node("honest");
    swarms.push(honest);
    honest.mesh.want(target, "test");
    await waitFor(() => honest.mesh.connectedPeerIds().includes(target), "the honest link", 20_000);
    await waitFor(() => victim.mesh.connectedPeerIds().includes(honest.identity.peerId), "admitted", 20_000);
    expect((await fetch(`${server.baseUrl}/api/v1/health`)).status).toBe(200);
  }, 60_000);
});
