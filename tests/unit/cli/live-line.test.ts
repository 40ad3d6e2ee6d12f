import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { liveLine } from "../../../src/cli/live-line.ts";

// The volunteer's status line off a terminal (a log, a test reading it): state changes at once, running
// figures at most once per interval, and the last figures of a burst printed when the interval ends.

const stateOf = (line: string) => line.replace(/ rows \d+/, "");

describe("live line", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("on a pipe: a new state at once, figures throttled, a held line printed when the interval ends", () => {
    const written: string[] = [];
    const live = liveLine({ write: (s: string) => written.push(s) }, stateOf, 1_000);
    live.show("idle rows 0");
    live.show("busy rows 0"); // a new state: printed at once
    live.show("busy rows 5"); // figures only: held
    live.show("busy rows 9"); // still held (replaces 5)
    expect(written).toEqual(["idle rows 0\n", "busy rows 0\n"]);
    vi.advanceTimersByTime(1_000);
    expect(written).toEqual(["idle rows 0\n", "busy rows 0\n", "busy rows 9\n"]);
    vi.advanceTimersByTime(5_000);
    expect(written).toHaveLength(3);
    live.show("busy rows 12"); // past the interval: at once
    live.show("busy rows 13");
    live.flush(); // leaving: the held figures go out
    expect(written.slice(3)).toEqual(["busy rows 12\n", "busy rows 13\n"]);
  });

  it("on a terminal: one line rewritten in place, every change", () => {
    const written: string[] = [];
    const live = liveLine({ write: (s: string) => written.push(s), isTTY: true }, stateOf, 1_000);
    live.show("busy rows 1");
    live.show("busy rows 2");
    live.show("busy rows 2");
    expect(written).toEqual(["\r\x1b[2Kbusy rows 1", "\r\x1b[2Kbusy rows 2"]);
  });
});
