import { describe, expect, it } from "vitest";
import { HeldTransport } from "../../../src/core/net/held-transport.ts";
import { MemoryChannel, MemoryLink } from "./memory-transport.ts";

function pair(): { local: MemoryLink; remote: MemoryLink } {
  const a = new MemoryChannel(1 << 20);
  const b = new MemoryChannel(1 << 20);
  a.peer = b;
  b.peer = a;
  const local = new MemoryLink("os" + "1".repeat(32), false, a);
  const remote = new MemoryLink("os" + "2".repeat(32), true, b);
  local.other = remote;
  remote.other = local;
  return { local, remote };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("held incoming connections", () => {
  it("buffers open and data while held and replays them in order on release", async () => {
    const { local, remote } = pair();
    const held = new HeldTransport(local, 1024);
    local.open();
    remote.open();
    remote.memoryChannel.send(new Uint8Array([1]));
    remote.memoryChannel.send(new Uint8Array([2]));
    await tick();
    const events: string[] = [];
    held.onOpen(() => events.push("open"));
    held.onData((d) => events.push(`data ${new Uint8Array(d as ArrayBuffer)[0]}`));
    expect(events).toEqual([]);
    held.release();
    remote.memoryChannel.send(new Uint8Array([3]));
    await tick();
    expect(events).toEqual(["open", "data 1", "data 2", "data 3"]);
  });

  it("drops a held connection that sends more than its small buffer before being admitted", async () => {
    const { local, remote } = pair();
    const held = new HeldTransport(local, 1024);
    local.open();
    remote.open();
    remote.memoryChannel.send(new Uint8Array(2048));
    await tick();
    expect(held.isClosed).toBe(true);
  });
});
