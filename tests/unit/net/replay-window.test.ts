import { describe, expect, it } from "vitest";
import { ReplayWindow } from "../../../src/core/net/replay-window.ts";
import { manualClock } from "./mesh-harness.ts";

describe("replay window", () => {
  it("remembers a nonce exactly while its envelope could pass the age check, then forgets it", () => {
    const clock = manualClock(1_000_000);
    const window = new ReplayWindow(60_000, 100, clock.nowMs);
    expect(window.record("p", "n1", clock.nowMs())).toBe("ok");
    expect(window.peek("p", "n1")).toBe("replayed");
    expect(window.peek("q", "n1")).toBe("ok");
    clock.advance(59_000);
    expect(window.peek("p", "n1")).toBe("replayed");
    clock.advance(2_001);
    expect(window.peek("p", "n1")).toBe("ok");
    expect(window.size).toBe(0);
  });

  it("refuses new nonces when full instead of forgetting remembered ones", () => {
    const clock = manualClock(0);
    const window = new ReplayWindow(60_000, 3, clock.nowMs);
    for (const n of ["a", "b", "c"]) expect(window.record("p", n, 0)).toBe("ok");
    expect(window.record("p", "d", 0)).toBe("full");
    expect(window.peek("p", "a")).toBe("replayed");
    clock.advance(62_000);
    expect(window.record("p", "d", 62_000)).toBe("ok");
  });
});
