import { describe, expect, it } from "vitest";
import {
  CanarySupply,
  mixCanaries,
  planCanaryRows,
  unmixCanaries,
  type CanaryRow,
} from "../../../src/core/experts/router/verification/canaries.ts";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { HostStats } from "../../../src/core/experts/router/dispatch/host-stats.ts";
import { adjudicate, replicasAgree } from "../../../src/core/experts/router/verification/replication.ts";
import {
  compareOutputs,
  TOLERANCE,
  toleranceForVariant,
} from "../../../src/core/experts/router/verification/tolerance.ts";
import { RemoteCalls } from "../../../src/core/experts/router/dispatch/calls.ts";
import { HostRegistry } from "../../../src/core/experts/router/dispatch/hosts.ts";
import { seeded } from "./router-fixtures.ts";

const sha = "ab".repeat(32);

describe("verification pieces", () => {
  it("canaries go in at random positions and come out exactly; a changed canary row is caught", () => {
    const random = seeded(4);
    const cols = 3;
    const input = Float32Array.from({ length: 5 * cols }, (_, i) => i);
    const canaries: CanaryRow[] = [7, 8].map((v, i) => ({
      row: i,
      input: new Float32Array(cols).fill(100 + v),
      output: new Float32Array(2).fill(v),
    }));
    const positions = new Set<string>();
    for (let t = 0; t < 50; t++) {
      const mixed = mixCanaries(input, 5, cols, canaries, random);
      positions.add(mixed.at.join(","));
      // An honest "model": output row = [first input value, first input value] except canaries → their outputs.
      const output = new Float32Array(mixed.rows * 2);
      for (let r = 0; r < mixed.rows; r++) {
        const v = mixed.input[r * cols]!;
        output.fill(v >= 100 ? v - 100 : v, r * 2, r * 2 + 2);
      }
      const honest = unmixCanaries(output, 2, mixed, TOLERANCE.int8);
      expect(honest.canaries.ok).toBe(true);
      expect([...honest.real]).toEqual([0, 0, 3, 3, 6, 6, 9, 9, 12, 12]);
      const at = mixed.at[1]! * 2;
      output[at] = output[at]! + 1e-3;
      expect(unmixCanaries(output, 2, mixed, TOLERANCE.int8).canaries).toMatchObject({
        ok: false,
        badRows: 1,
      });
    }
    expect(positions.size).toBeGreaterThan(10);
  });

  it("plans one canary per request, hands each out once, and keeps tiny experts local", () => {
    const rows = Int32Array.from({ length: 200 }, (_, i) => i);
    const plan = planCanaryRows(rows, 64, 1, seeded(1));
    expect(plan.canaryRows.length).toBe(4);
    expect(plan.canaryRows.length + plan.remoteRows.length).toBe(200);
    expect(new Set([...plan.canaryRows, ...plan.remoteRows]).size).toBe(200);
    expect(planCanaryRows(rows.subarray(0, 2), 64, 1, seeded(1)).remoteRows.length).toBe(0);
    const supply = new CanarySupply(
      [...plan.canaryRows].map((row) => ({ row, input: new Float32Array(1), output: new Float32Array(1) })),
      seeded(2),
    );
    const first = [...supply.take(2, seeded(3)), ...supply.take(2, seeded(3))].map((c) => c.row);
    expect(new Set(first).size).toBe(4); // fresh ones first, each once
    expect(supply.take(1, seeded(3))).toHaveLength(1); // then reused rather than none
  });

  it("tolerances come from the model variant the requester sent, and a lie beyond them is told apart from noise", () => {
    expect(toleranceForVariant("int8").name).toBe("int8");
    expect(toleranceForVariant("qdq").name).toBe("float");
    expect(toleranceForVariant(undefined).name).toBe("upload");
    const b = new Float32Array([10, -3, 0.5, 0]);
    const noise = b.map((v) => v + 1e-7);
    const lie = b.map((v) => v + (Math.abs(v) + 1e-3) * 1e-3);
    expect(compareOutputs(noise, b, 2, TOLERANCE.int8).ok).toBe(true);
    expect(compareOutputs(lie, b, 2, TOLERANCE.int8)).toMatchObject({
      ok: false,
      badRows: 2,
    });
    expect(compareOutputs(new Float32Array(3), b, 2, TOLERANCE.float).ok).toBe(false);
    const answers = [
      { hostId: "honest", output: noise },
      { hostId: "liar", output: lie },
    ];
    expect(replicasAgree(answers[0]!, answers[1]!, 2, TOLERANCE.int8).ok).toBe(false);
    expect(adjudicate(answers, b, 2, TOLERANCE.int8).map((j) => [j.hostId, j.honest])).toEqual([
      ["honest", true],
      ["liar", false],
    ]);
  });

  it("host statistics: EWMA per row, percentiles, failure-inflated score", () => {
    const s = new HostStats("h");
    for (let i = 1; i <= 100; i++) s.succeeded(10, i);
    expect(s.percentile(0.5)).toBe(50);
    expect(s.percentile(0.99)).toBe(99);
    const fast = s.score(1, 0);
    s.failed("timeout");
    s.failed("timeout");
    expect(s.consecutiveTimeouts).toBe(2);
    expect(s.score(1, 0)).toBeGreaterThan(fast * 1.5);
    expect(s.score(1, 1)).toBeCloseTo(2 * s.score(1, 0));
    expect(new HostStats("new").score(3, 0)).toBe(3);
  });

  it("calls: answers only from the host asked, size-checked; timeouts, late answers and closed links", async () => {
    const hub = new MemoryExpertHub();
    const link = hub.link("req");
    const host = hub.link("host");
    const other = hub.link("other");
    const calls = new RemoteCalls(link, () => performance.now(), seeded(1));
    link.onMessage((from, m) => calls.onMessage(from, m));
    const requests: string[] = [];
    host.onMessage((_f, m) => {
      if (m.kind === "infer-request") requests.push(m.id);
    });
    const data = new Float32Array(4);
    const ok = calls.call("host", { model: sha, rows: 2, cols: 2, data }, 10, 1000);
    await new Promise((r) => setTimeout(r, 5));
    const id = requests[0]!;
    await other.send("req", {
      kind: "infer-result",
      id,
      rows: 2,
      cols: 10,
      ms: 0,
      data: new Float32Array(20).fill(9),
    });
    await host.send("req", {
      kind: "infer-result",
      id,
      rows: 2,
      cols: 10,
      ms: 1,
      data: new Float32Array(20).fill(1),
    });
    const outcome = await ok;
    expect(outcome.ok && outcome.data[0]).toBe(1);

    const wrong = calls.call("host", { model: sha, rows: 2, cols: 2, data }, 10, 1000);
    await new Promise((r) => setTimeout(r, 5));
    await host.send("req", {
      kind: "infer-result",
      id: requests[1]!,
      rows: 1,
      cols: 10,
      ms: 1,
      data: new Float32Array(10),
    });
    expect(await wrong).toMatchObject({ ok: false, reason: "malformed" });

    const slow = calls.call("host", { model: sha, rows: 2, cols: 2, data }, 10, 30);
    expect(await slow).toMatchObject({ ok: false, reason: "timeout" });
    await host.send("req", {
      kind: "infer-result",
      id: requests[2]!,
      rows: 2,
      cols: 10,
      ms: 1,
      data: new Float32Array(20),
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(calls.late.get("host")).toBe(1);

    const gone = calls.call("host", { model: sha, rows: 2, cols: 2, data }, 10, 5000);
    hub.kill("host");
    await new Promise((r) => setTimeout(r, 5));
    calls.onPeerClosed("host");
    expect(await gone).toMatchObject({ ok: false, reason: "closed" });
    expect(await calls.call("host", { model: sha, rows: 2, cols: 2, data }, 10, 5000)).toMatchObject({
      ok: false,
      reason: "send-failed",
    });
  });

  it("host registry: replicas and retries are served before fresh batches; banned and suspended hosts are not picked", async () => {
    let now = 0;
    const registry = new HostRegistry({
      maxInFlightPerHost: 1,
      explore: 0,
      suspendAfterTimeouts: 2,
      suspendMs: 100,
      random: seeded(1),
      nowMs: () => now,
    });
    const hosting = (hosted: string[]) => ({
      kind: "hosting" as const,
      requestId: null,
      provider: "wasm" as const,
      hosted,
      failed: [],
      paused: false,
      maxQueuedRequests: 8,
    });
    registry.hosting("a", hosting([sha]), new Set([sha]));
    const first = await registry.acquire(sha, new Set(), 1);
    expect(first?.peerId).toBe("a");
    const order: string[] = [];
    const fresh = registry.acquire(sha, new Set(), 1).then(() => order.push("fresh"));
    const replica = registry.acquire(sha, new Set(), 0).then(() => order.push("replica"));
    registry.release(first!);
    await replica;
    expect(order).toEqual(["replica"]);
    registry.release(registry.get("a")!);
    await fresh;
    expect(order).toEqual(["replica", "fresh"]);
    registry.release(registry.get("a")!);
    const entry = registry.get("a")!;
    entry.stats.failed("timeout");
    entry.stats.failed("timeout");
    registry.noteTimeout(entry);
    expect(registry.pick(sha, new Set()).kind).toBe("none");
    now = 200;
    expect(registry.pick(sha, new Set()).kind).toBe("host");
    registry.ban("a", "lied");
    expect(registry.pick(sha, new Set()).kind).toBe("none");
    expect(await registry.acquire(sha, new Set(), 1)).toBeNull();
  });
});
