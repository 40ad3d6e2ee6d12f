import { expect, test } from "@playwright/test";
import { closePeers, counters, openPeers, type TestPeer } from "./support/peers.ts";

// Issue 10, data channel: a modified client floods one tab over its WebRTC data channel. The flooder is a
// fault-injection client: an ordinary tab driven through the test-only `debugSendRaw` (the ?test=1 hook),
// sending as fast as its channel takes them what no honest client sends: forged signed envelopes (each
// would cost a signature check), pings (each would cost a pong) and pongs nobody asked for. The victim must
// throttle the link, then close it and count it, while a third, honest tab keeps talking to it.

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("a flooding tab is throttled, cut off and counted; the victim keeps serving an honest tab", async ({
  browser,
}) => {
  peers = await openPeers(browser, 3);
  const [flooder, victim, honest] = peers as [TestPeer, TestPeer, TestPeer];
  for (const [from, to] of [
    [flooder, victim],
    [honest, victim],
  ] as const) {
    await from.page.evaluate(async (peerId) => {
      const swarm = await window.openSwarm!.ready;
      await swarm.mesh.waitForPeer(peerId, 15_000);
    }, to.peerId);
  }
  const before = await counters(victim.page);
  // The victim notes when the flooder's traffic started reaching its mesh and when the link closed: the
  // signed bucket can have refilled only in between, whatever the machine's load.
  await victim.page.evaluate(async (from) => {
    const swarm = await window.openSwarm!.ready;
    const times = { firstMs: 0, closedMs: 0 };
    (window as unknown as { floodTimes: typeof times }).floodTimes = times;
    const seen = (): void => void (times.firstMs ||= Date.now());
    swarm.mesh.on("rejected", (e) => e.peerId === from && seen());
    swarm.mesh.on("message", (e) => e.from === from && seen());
    swarm.mesh.on("peer-close", (e) => e.peerId === from && (times.closedMs ||= Date.now()));
  }, flooder.peerId);

  // The flooding client (fault injection): fire everything without waiting, until its link is cut.
  const sent = await flooder.page.evaluate(async (to) => {
    const swarm = await window.openSwarm!.ready;
    const genuine = await swarm.mesh.signEnvelope({ type: "note", text: "pay 1" }, to);
    const forged = { ...genuine, body: genuine.body.replace("pay 1", "pay 9") };
    let queued = 0;
    const startedMs = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let round = 0; round < 40 && swarm.mesh.connectedPeerIds().includes(to); round++) {
      for (let i = 0; i < 500; i++) {
        const message =
          i % 5 === 0
            ? forged
            : i % 5 === 1
              ? { v: 1, type: "ping", id: `flood-${round}-${i}` }
              : { v: 1, type: "pong", replyTo: `flood-${round}-${i}` };
        inFlight.push(swarm.mesh.debugSendRaw(to, message).catch(() => undefined));
        queued++;
      }
      // Let the channel's events run (and notice the close) between rounds.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const elapsedMs = performance.now() - startedMs;
    await Promise.all(inFlight);
    return { queued, elapsedMs };
  }, victim.peerId);

  await expect
    .poll(async () => (await counters(victim.page)).floodingLinksClosed, { timeout: 20_000 })
    .toBe(before.floodingLinksClosed + 1);
  const after = await counters(victim.page);
  expect(after.throttled).toBeGreaterThan(before.throttled);
  // Rate limit before signature checks: only the signed burst (200) plus its refill (50/s) while the flood
  // reached the victim was ever verified, out of the forged envelopes sent (a fifth of all messages).
  const verified = after.forgedRejected - before.forgedRejected;
  const times = await victim.page.evaluate(
    () => (window as unknown as { floodTimes: { firstMs: number; closedMs: number } }).floodTimes,
  );
  const floodMs = times.closedMs - times.firstMs;
  expect(floodMs).toBeGreaterThan(0);
  expect(verified).toBeLessThanOrEqual(200 + Math.ceil((50 * floodMs) / 1000) + 5);
  expect(verified).toBeLessThan(sent.queued / 5);
  console.log(
    `flood: ${sent.queued} messages queued in ${Math.round(sent.elapsedMs)} ms; victim throttled ` +
      `${after.throttled - before.throttled}, verified ${verified} forged, closed the link ${floodMs} ms ` +
      `after the flood reached it`,
  );
  // The victim's own page shows it.
  await expect(victim.page.getByTestId("defence-counters")).toContainText("1 flooding links closed");
  expect(
    await victim.page.evaluate(async () => (await window.openSwarm!.ready).mesh.connectedPeerIds()),
  ).not.toContain(flooder.peerId);

  // The honest tab is served as before: a ping round trip and a signed note.
  await honest.page.evaluate(async (to) => {
    const swarm = await window.openSwarm!.ready;
    await swarm.mesh.ping(to, 10_000);
    await swarm.mesh.sendSigned(to, { type: "note", text: "after the flood" });
  }, victim.peerId);
  await expect
    .poll(() =>
      victim.page.evaluate(() =>
        window.openSwarm!.store.getState().recentNotes.some((n) => n.text === "after the flood"),
      ),
    )
    .toBe(true);
  const notes = await victim.page.evaluate(() =>
    window.openSwarm!.store.getState().recentNotes.filter((n) => n.text.includes("pay")),
  );
  expect(notes).toEqual([]);
});
