import { describe, expect, it } from "vitest";
import { delivered } from "../../../workers/solver/delivered.ts";

describe("the solver worker's callbacks to the page", () => {
  it("settled() waits until the page answered the last call (the outcome must not overtake updates)", async () => {
    const answers: (() => void)[] = [];
    const handled: number[] = [];
    // Like a Comlink proxy: each call answers when the page has run it, in call order.
    const cb = delivered(
      (k: number) => new Promise<void>((resolve) => answers.push(() => (handled.push(k), resolve()))),
    );
    cb.call(1);
    cb.call(2);
    let settled = false;
    const waiting = cb.settled().then(() => (settled = true));
    answers[0]!();
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(false);
    answers[1]!();
    await waiting;
    expect(handled).toEqual([1, 2]);
  });

  it("a page that went away (the call rejects) does not hold the outcome back", async () => {
    const cb = delivered(() => Promise.reject(new Error("port closed")));
    cb.call();
    await expect(cb.settled()).resolves.toBeUndefined();
  });
});
