import { describe, expect, it } from "vitest";
import type { Mesh, MeshEvents } from "../../../src/core/net/mesh.ts";
import { MemoryHub } from "./memory-transport.ts";
import { introduce, sortedIdentities, startMesh, until } from "./mesh-harness.ts";

/**
 * The overlay (issue 12, item 2): with dialPolicy "on-demand" a mesh dials only the peers it wants, and
 * closes a link it dialed once nobody here wants it and it carried nothing for `unusedLinkMs`.
 */

const ON_DEMAND = { dialPolicy: "on-demand" as const, pingIntervalMs: 40 };

function closes(mesh: Mesh): MeshEvents["peer-close"][] {
  const seen: MeshEvents["peer-close"][] = [];
  mesh.on("peer-close", (event) => seen.push(event));
  return seen;
}

describe("mesh on demand", () => {
  it("dials nobody it does not want, and the wanting side dials even with the larger id", async () => {
    const hub = new MemoryHub();
    const [low, mid, high] = await sortedIdentities(3);
    const a = await startMesh(hub, low!, ON_DEMAND);
    const b = await startMesh(hub, mid!, ON_DEMAND);
    const c = await startMesh(hub, high!, ON_DEMAND);
    introduce([a, low!], [b, mid!], [c, high!]);
    // All three know each other; under "all-known" a and b would have dialed already (dials are synchronous).
    expect([a, b, c].map((m) => m.linkStats().length)).toEqual([0, 0, 0]);

    c.want(low!.peerId, "jobs");
    // Both ends: a may see the link open before c does.
    await until(
      () => a.connectedPeerIds().includes(high!.peerId) && c.connectedPeerIds().includes(low!.peerId),
      "the link c wanted",
    );
    expect(c.connectedPeerIds()).toEqual([low!.peerId]);
    expect(b.linkStats()).toEqual([]);
  });

  it("keeps one link when both sides want each other at once", async () => {
    const hub = new MemoryHub();
    const [low, high] = await sortedIdentities(2);
    const a = await startMesh(hub, low!, ON_DEMAND);
    const b = await startMesh(hub, high!, ON_DEMAND);
    introduce([a, low!], [b, high!]);
    const closedA = closes(a);
    const closedB = closes(b);
    a.want(high!.peerId, "jobs");
    b.want(low!.peerId, "jobs");
    await until(() => a.connectedPeerIds().length === 1 && b.connectedPeerIds().length === 1, "one link");
    // Whatever lost the tie never opened: no open link was torn down.
    expect([...closedA, ...closedB].filter((e) => e.previous === "open")).toEqual([]);
    expect(a.linkStats()).toHaveLength(1);
    expect(b.linkStats()).toHaveLength(1);
  });

  it("keeps a wanted link, and closes it once released and unused", async () => {
    const hub = new MemoryHub();
    const [low, high] = await sortedIdentities(2);
    const unusedLinkMs = 150;
    const a = await startMesh(hub, low!, { ...ON_DEMAND, unusedLinkMs });
    const b = await startMesh(hub, high!, { ...ON_DEMAND, unusedLinkMs });
    introduce([a, low!], [b, high!]);
    const closedB = closes(b);
    b.want(low!.peerId, "router");
    await b.waitForPeer(low!.peerId, 5_000);
    const openedAt = Date.now();
    // Pings a receives count b's ticks: several ticks past the unused time, and the wanted link is still up.
    const pingsBefore = a.counters.messagesReceived;
    await until(
      () => Date.now() - openedAt > 3 * unusedLinkMs && a.counters.messagesReceived - pingsBefore >= 6,
      "ticks past the unused time",
    );
    expect(b.connectedPeerIds()).toEqual([low!.peerId]);
    expect(closedB).toEqual([]);

    b.release("router");
    await until(() => closedB.length > 0, "the released link to close");
    expect(closedB[0]).toMatchObject({ peerId: low!.peerId, previous: "open", reason: /unused/ });
    // Not wanted any more: it is not redialed.
    await until(() => a.connectedPeerIds().length === 0, "a to see it closed");
    expect(b.linkStats()).toEqual([]);
  });

  it("waitForPeer dials on demand, and the link then closes when unused", async () => {
    const hub = new MemoryHub();
    const [low, high] = await sortedIdentities(2);
    const a = await startMesh(hub, low!, { ...ON_DEMAND, unusedLinkMs: 100 });
    const b = await startMesh(hub, high!, { ...ON_DEMAND, unusedLinkMs: 100 });
    introduce([a, low!], [b, high!]);
    await b.waitForPeer(low!.peerId, 5_000);
    await b.sendSigned(low!.peerId, { type: "note", text: "hi" });
    await until(() => b.connectedPeerIds().length === 0, "the unused link to close");
  });
});

describe("mesh on demand at its link cap", () => {
  it("a replacing connection takes the old link's slot: no dial to a third peer past maxLinks", async () => {
    const hub = new MemoryHub();
    const [low, b1, c1, d1] = await sortedIdentities(4);
    const a = await startMesh(hub, low!, { ...ON_DEMAND, maxLinks: 2 });
    const b = await startMesh(hub, b1!, ON_DEMAND);
    const c = await startMesh(hub, c1!, ON_DEMAND);
    const d = await startMesh(hub, d1!, ON_DEMAND);
    introduce([a, low!], [b, b1!], [c, c1!], [d, d1!]);
    // a wants three peers with two slots: one of them waits for a slot.
    for (const id of [b1!, c1!, d1!]) a.want(id.peerId, "jobs");
    await until(() => a.connectedPeerIds().length === 2, "a's two links");
    const linked = a.connectedPeerIds();
    const waiting = [b1!, c1!, d1!].map((i) => i.peerId).find((id) => !linked.includes(id))!;

    // A second connection from a linked peer (as after its reload): it replaces the open link.
    const replaced = closes(a);
    hub.transports.get(linked[0]!)!.dial(low!.peerId);
    await until(() => replaced.some((e) => /replaced/.test(e.reason)), "the old link replaced");
    expect(a.linkStats().map((s) => s.peerId)).not.toContain(waiting);
    expect(a.linkStats().length).toBeLessThanOrEqual(2);
    expect(a.counters.peakLinks).toBe(2);
  });
});
