import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { applyUpdates, type SystemUpdates } from "../../../src/core/solver/updates/patch.ts";
import {
  closeMailbox,
  createUpdateMailbox,
  mailboxClosed,
  mailboxSource,
  postToMailbox,
} from "../../../src/core/solver/updates/mailbox.ts";
import type { LiveUpdateEvent } from "../../../src/core/solver/updates/source.ts";
import { generateByName } from "../../../src/core/sparse/generators.ts";
import { multiply, seededRandom } from "./helpers.ts";

describe("the shared-memory update mailbox", () => {
  it("carries a batch unchanged (indices, values, modes, seq) and empties on take", () => {
    const buffer = createUpdateMailbox(8);
    const source = mailboxSource(buffer);
    expect(source.pending()).toBe(false);
    const updates: SystemUpdates = {
      matrix: [
        { row: 3, col: 4, value: -1.25e-300, mode: "add" },
        { row: 0, col: 0, value: NaN, mode: "set" }, // carried as is: validation is the solve's job
      ],
      rhs: [{ index: 7, value: Math.PI, mode: "set" }],
    };
    expect(postToMailbox(buffer, 42, updates)).toBe("posted");
    expect(source.pending()).toBe(true);
    const batch = source.take()!;
    expect(batch.seq).toBe(42);
    expect(batch.updates.matrix).toEqual(updates.matrix);
    expect(batch.updates.rhs).toEqual(updates.rhs);
    expect(source.pending()).toBe(false);
    expect(source.take()).toBeNull();
  });

  it("says busy while a batch waits, too_large over capacity, closed after the solve closed it", () => {
    const buffer = createUpdateMailbox(2);
    const source = mailboxSource(buffer);
    const one: SystemUpdates = { rhs: [{ index: 0, value: 1 }] };
    expect(postToMailbox(buffer, 1, { rhs: [0, 1, 2].map((index) => ({ index, value: 1 })) })).toBe(
      "too_large",
    );
    expect(postToMailbox(buffer, 1, one)).toBe("posted");
    expect(postToMailbox(buffer, 2, one)).toBe("busy");
    expect(source.close()).toBe(false); // a batch waits: the solve must take it first
    source.take();
    expect(source.close()).toBe(true);
    expect(mailboxClosed(buffer)).toBe(true);
    expect(postToMailbox(buffer, 3, one)).toBe("closed");
    const other = createUpdateMailbox(2);
    closeMailbox(other);
    expect(postToMailbox(other, 1, one)).toBe("closed");
  });

  it("reaches a solve running in another thread (worker_threads), which ends solving the updated system", async () => {
    const problem = "poisson2d-200";
    const a = generateByName(problem)!;
    const rnd = seededRandom(3);
    const b = Float64Array.from({ length: a.rows }, () => rnd() - 0.5);
    const change: SystemUpdates = {
      matrix: [{ row: 20_000, col: 20_000, value: 4.01 }],
      rhs: [{ index: 11, value: 0.01, mode: "add" }],
    };
    const mailbox = createUpdateMailbox();
    const worker = new Worker(new URL("./fixtures/incremental-thread-boot.mjs", import.meta.url), {
      workerData: { mailbox, problem, b },
    });
    let postedAtIteration: number | null = null;
    const done = await new Promise<{
      x: Float64Array;
      converged: boolean;
      events: LiveUpdateEvent[];
      iterations: number;
    }>((resolve, reject) => {
      worker.on("error", reject);
      worker.on("message", (m: { type: string; iteration?: number }) => {
        if (m.type === "progress" && postedAtIteration === null) {
          // The worker is inside its synchronous loop: only shared memory reaches it now.
          expect(postToMailbox(mailbox, 1, change)).toBe("posted");
          postedAtIteration = m.iteration!;
        }
        if (m.type === "done") resolve(m as never);
      });
    });
    await worker.terminate();
    expect(done.events).toHaveLength(1);
    const applied = done.events[0]!;
    expect(applied.type).toBe("update_applied");
    // Applied mid-solve, after the post, before the end (the loop picked it up at an iteration boundary).
    expect(applied.iteration).toBeGreaterThanOrEqual(postedAtIteration!);
    expect(applied.iteration).toBeLessThan(done.iterations);
    const updated = applyUpdates(a, b, change);
    const r = multiply(updated.a, done.x);
    let num = 0;
    let den = 0;
    for (let i = 0; i < r.length; i++) {
      num += (updated.b[i]! - r[i]!) ** 2;
      den += updated.b[i]! ** 2;
    }
    expect(done.converged).toBe(true);
    expect(Math.sqrt(num / den)).toBeLessThanOrEqual(1e-8 * (1 + 1e-6));
  }, 60_000);
});
