import { describe, expect, it } from "vitest";
import { BackpressureError, sendWithBackpressure } from "../../../src/core/net/backpressure.ts";
import { MemoryChannel } from "./memory-transport.ts";

function openPair(drainBytesPerTick: number): { sender: MemoryChannel; received: () => number } {
  const sender = new MemoryChannel(drainBytesPerTick);
  const receiver = new MemoryChannel(drainBytesPerTick);
  sender.peer = receiver;
  receiver.peer = sender;
  sender.readyState = "open";
  receiver.readyState = "open";
  let bytes = 0;
  receiver.onDeliver = (data) => {
    bytes += (data as ArrayBuffer).byteLength;
  };
  return { sender, received: () => bytes };
}

const frames = (count: number, size: number) => Array.from({ length: count }, () => new Uint8Array(size));

describe("sendWithBackpressure", () => {
  it("never lets the send buffer grow past the high-water mark plus one frame", async () => {
    const { sender, received } = openPair(32 * 1024);
    const options = { highWaterMarkBytes: 128 * 1024, lowWaterMarkBytes: 32 * 1024, drainTimeoutMs: 5000 };
    const sent = await sendWithBackpressure(sender, frames(200, 16 * 1024), options);
    expect(sent).toBe(200 * 16 * 1024);
    expect(sender.maxBufferedAmount).toBeLessThanOrEqual(128 * 1024);
    expect(sender.maxBufferedAmount).toBeGreaterThan(64 * 1024);
    await new Promise((r) => setTimeout(r, 50));
    expect(received()).toBe(sent);
  });

  it("still drains when the channel never fires bufferedamountlow (node-webrtc, as Node peers use it)", async () => {
    const { sender, received } = openPair(32 * 1024);
    // Fault injection: this channel swallows bufferedamountlow listeners, as @roamhq/wrtc never fires it.
    const add = sender.addEventListener.bind(sender);
    sender.addEventListener = (type, listener) => {
      if (type !== "bufferedamountlow") add(type, listener);
    };
    const options = { highWaterMarkBytes: 128 * 1024, lowWaterMarkBytes: 32 * 1024, drainTimeoutMs: 2000 };
    const sent = await sendWithBackpressure(sender, frames(100, 16 * 1024), options);
    expect(sent).toBe(100 * 16 * 1024);
    expect(sender.maxBufferedAmount).toBeLessThanOrEqual(128 * 1024);
    await new Promise((r) => setTimeout(r, 50));
    expect(received()).toBe(sent);
  });

  it("fails with drain_timeout when the channel stops draining", async () => {
    const { sender } = openPair(0);
    const options = { highWaterMarkBytes: 64 * 1024, lowWaterMarkBytes: 16 * 1024, drainTimeoutMs: 100 };
    const error = await sendWithBackpressure(sender, frames(10, 16 * 1024), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackpressureError);
    expect(error).toMatchObject({ code: "drain_timeout" });
  });

  it("fails with channel_closed when the channel closes while waiting, or before sending", async () => {
    const { sender } = openPair(0);
    const options = { highWaterMarkBytes: 32 * 1024, lowWaterMarkBytes: 0, drainTimeoutMs: 5000 };
    const pending = sendWithBackpressure(sender, frames(10, 16 * 1024), options);
    setTimeout(() => sender.close(), 20);
    await expect(pending).rejects.toMatchObject({ code: "channel_closed" });
    await expect(sendWithBackpressure(sender, frames(1, 10), options)).rejects.toMatchObject({
      code: "channel_closed",
    });
  });
});
