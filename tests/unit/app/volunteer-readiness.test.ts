import { describe, expect, it } from "vitest";
import type { RouterHostSnapshot } from "../../../src/core/experts/router/index.ts";
import { volunteerReadiness } from "../../../src/app/components/experts/volunteer-readiness.ts";

const host = (peerId: string, over: Partial<RouterHostSnapshot>): RouterHostSnapshot =>
  ({
    peerId,
    placed: [0, 1],
    ready: [0, 1],
    connected: true,
    paused: false,
    banned: null,
    trusted: true,
    ...over,
  }) as RouterHostSnapshot;

describe("the Run button's note on the volunteers", () => {
  it("says nothing before the router exists", () => {
    expect(volunteerReadiness(null, "me").text).toBeNull();
  });

  it("counts loading, being checked and ready hosts, leaving out this tab's own host and unusable ones", () => {
    const r = volunteerReadiness(
      [
        host("me", { trusted: true }),
        host("a", { ready: [0] }),
        host("b", { trusted: false }),
        host("c", {}),
        host("d", { banned: "lied" }),
        host("e", { paused: true }),
        host("f", { connected: false }),
        host("g", { placed: [], ready: [] }),
      ],
      "me",
    );
    expect([r.ready, r.loading, r.checking]).toEqual([1, 2, 1]);
    expect(r.text).toBe(
      "1 of 4 volunteers ready (2 loading the experts, 1 being checked): a job started now runs, but slower, and checks more of their answers",
    );
  });

  it("says ready when every usable volunteer is loaded and trusted, and when there are none", () => {
    expect(volunteerReadiness([host("a", {}), host("b", {})], null).text).toBe("2 volunteers ready");
    expect(volunteerReadiness([host("me", {})], "me").text).toBe(
      "no volunteers yet: this tab computes the job itself",
    );
  });
});
