import { expect, test } from "@playwright/test";
import {
  closePeers,
  counters,
  directoryPeerIds,
  openPeer,
  openPeers,
  type TestPeer,
} from "./support/peers.ts";

// The foundation: four tabs (four browser contexts = four identities) find each other through the directory,
// open authenticated WebRTC data channels, exchange signed messages, reject forgeries, survive garbage, notice
// a closed tab, and move a 5 MB payload intact.

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("four peers see each other in the directory within 5 s", async ({ browser }) => {
  peers = await openPeers(browser, 4);
  const startedMs = Date.now();
  for (const peer of peers) {
    const others = peers
      .filter((p) => p !== peer)
      .map((p) => p.peerId)
      .sort();
    await expect
      .poll(async () => (await directoryPeerIds(peer.page)).sort(), { timeout: 5_000, intervals: [50] })
      .toEqual(others);
  }
  expect(Date.now() - startedMs).toBeLessThan(5_000);
  await expect(peers[0]!.page.getByTestId("peer-count")).toHaveText("3");
});

test("every pair exchanges a signed message over a data channel", async ({ browser }) => {
  peers = await openPeers(browser, 4);
  for (const sender of peers) {
    for (const receiver of peers) {
      if (sender === receiver) continue;
      const text = `hello from ${sender.peerId} to ${receiver.peerId}`;
      await sender.page.evaluate(
        async ({ to, text }) => {
          const swarm = await window.openSwarm!.ready;
          await swarm.mesh.waitForPeer(to, 10_000);
          await swarm.mesh.sendSigned(to, { type: "note", text });
        },
        { to: receiver.peerId, text },
      );
      await expect
        .poll(() =>
          receiver.page.evaluate(
            ({ from, text }) =>
              window.openSwarm!.store.getState().recentNotes.some((n) => n.from === from && n.text === text),
            { from: sender.peerId, text },
          ),
        )
        .toBe(true);
    }
  }
  for (const peer of peers) expect((await counters(peer.page)).forgedRejected).toBe(0);
});

test("a forged signature is rejected and counted; garbage is dropped; the channel keeps working", async ({
  browser,
}) => {
  peers = await openPeers(browser, 2);
  const [alice, bob] = peers as [TestPeer, TestPeer];
  const before = await counters(bob.page);
  await alice.page.evaluate(async (to) => {
    const swarm = await window.openSwarm!.ready;
    await swarm.mesh.waitForPeer(to, 10_000);
    // A genuine envelope whose body is then altered: the signature no longer covers it.
    const envelope = await swarm.mesh.signEnvelope({ type: "note", text: "pay me 1 token" }, to);
    const forged = { ...envelope, body: envelope.body.replace("1 token", "1000 tokens") };
    await swarm.mesh.debugSendRaw(to, forged);
    // Garbage of several kinds: not JSON, unknown type, wrong version, raw bytes.
    await swarm.mesh.debugSendRaw(to, "this is not a frame");
    await swarm.mesh.debugSendRaw(to, { v: 1, type: "launch-missiles" });
    await swarm.mesh.debugSendRaw(to, { v: 99, type: "ping", id: "x1" });
    await swarm.mesh.debugSendRaw(to, new Uint8Array([1, 2, 3, 4, 5]));
  }, bob.peerId);

  await expect.poll(async () => (await counters(bob.page)).forgedRejected).toBe(before.forgedRejected + 1);
  await expect
    .poll(async () => (await counters(bob.page)).invalidDropped)
    .toBeGreaterThanOrEqual(before.invalidDropped + 4);
  const forgedAccepted = await bob.page.evaluate(() =>
    window.openSwarm!.store.getState().recentNotes.some((n) => n.text.includes("1000 tokens")),
  );
  expect(forgedAccepted).toBe(false);

  // After all that, an honest message still gets through.
  await alice.page.evaluate(async (to) => {
    const swarm = await window.openSwarm!.ready;
    await swarm.mesh.sendSigned(to, { type: "note", text: "still friends" });
  }, bob.peerId);
  await expect
    .poll(() =>
      bob.page.evaluate(() =>
        window.openSwarm!.store.getState().recentNotes.some((n) => n.text === "still friends"),
      ),
    )
    .toBe(true);
});

test("closing a tab removes it from the others' view within 10 s", async ({ browser }) => {
  peers = await openPeers(browser, 3);
  const [stays, alsoStays, leaves] = peers as [TestPeer, TestPeer, TestPeer];
  for (const peer of [stays, alsoStays]) {
    await expect.poll(() => directoryPeerIds(peer.page)).toContain(leaves.peerId);
  }
  const closedAtMs = Date.now();
  await leaves.context.close();
  for (const peer of [stays, alsoStays]) {
    await expect
      .poll(() => directoryPeerIds(peer.page), { timeout: 10_000, intervals: [100] })
      .not.toContain(leaves.peerId);
  }
  expect(Date.now() - closedAtMs).toBeLessThan(10_000);
});

test("a 5 MB payload crosses a data channel intact", async ({ browser }) => {
  peers = await openPeers(browser, 2);
  const [alice, bob] = peers as [TestPeer, TestPeer];
  const sent = await alice.page.evaluate(async (to) => {
    const swarm = await window.openSwarm!.ready;
    await swarm.mesh.waitForPeer(to, 10_000);
    const bytes = new Uint8Array(5 * 1024 * 1024);
    // getRandomValues fills at most 64 KiB per call.
    for (let offset = 0; offset < bytes.length; offset += 65536) {
      crypto.getRandomValues(bytes.subarray(offset, offset + 65536));
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    const receipt = await swarm.mesh.sendBlob(to, bytes, { label: "five-megabytes" });
    return { sha256, receipt };
  }, bob.peerId);

  expect(sent.receipt.sha256).toBe(sent.sha256);
  expect(sent.receipt.byteLength).toBe(5 * 1024 * 1024);
  const received = await bob.page.evaluate(() =>
    window.openSwarm!.store.getState().recentBlobs.find((b) => b.label === "five-megabytes"),
  );
  expect(received?.sha256).toBe(sent.sha256);
  expect(received?.byteLength).toBe(5 * 1024 * 1024);
  expect(received?.from).toBe(alice.peerId);
});

test("a tab that reloads keeps its identity", async ({ browser }) => {
  const peer = await openPeer(browser);
  peers = [peer];
  await peer.page.reload();
  const peerIdAfter = await peer.page.evaluate(async () => (await window.openSwarm!.ready).identity.peerId);
  expect(peerIdAfter).toBe(peer.peerId);
});
