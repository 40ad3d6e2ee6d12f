import { describe, expect, it } from "vitest";
import { createLocalSolveStore, stageSeries } from "../../../src/state/solve/index.ts";
import type { SolveJobOutcome, SolveJobSummary } from "../../../workers/solver/api.ts";
import type { SolveCallOptions, SolverClient } from "../../../workers/solver/client.ts";
import type { IterationUpdate } from "../../../src/core/solver/types.ts";

/**
 * A stand-in for the solver worker (test-only): each solve is scripted by the test, which decides when
 * the outcome and each update reach the page, so the orders that happen between two message ports
 * (the outcome before the last updates) are forced rather than hoped for.
 */
function scriptedClient() {
  const runs: { call: SolveCallOptions; finish: (o: SolveJobOutcome) => void }[] = [];
  const client = {
    nextSeq: () => 1,
    solve(_source: unknown, _options: unknown, call: SolveCallOptions) {
      let finish!: (o: SolveJobOutcome) => void;
      const outcome = new Promise<SolveJobOutcome>((resolve) => (finish = resolve));
      runs.push({ call, finish });
      return { outcome, post: () => Promise.resolve({ status: "not_taken", why: "finished", seq: 1 }) };
    },
  } as unknown as SolverClient;
  return { client, runs };
}

function update(iteration: number, residual: number, method = "cg+jacobi"): IterationUpdate {
  return {
    type: "iteration_update",
    method,
    iteration,
    residual_norm: residual,
    convergence_rate: 0.9,
    performance: { iteration_time_ms: 0.1, flops: 1, memory_bytes: 1 },
  };
}

function summary(iterations: number, relResidual: number, methodPath: string[]): SolveJobSummary {
  return {
    name: "bcsstk13",
    n: 3,
    nnz: 3,
    rhsIsAOnes: true,
    converged: true,
    reason: "converged",
    iterations,
    relResidual,
    bestResidual: relResidual,
    methodPath,
    stages: [],
    backend: "js",
    threads: 1,
    ms: 1,
    setupMs: 1,
    notes: [],
    x: new Float64Array(3),
  };
}

const OPTIONS = { method: "hybrid", tol: 1e-8, maxIter: 5000, backend: "js" } as const;
const SOURCE = { kind: "generated", name: "poisson2d-10" } as const;

describe("the local solve's chart feed", () => {
  it("an update that reaches the page after the outcome is not drawn at twice the iterations", async () => {
    const { client, runs } = scriptedClient();
    const store = createLocalSolveStore(client);
    const done = store.getState().submit(SOURCE, OPTIONS);
    const run = runs[0]!;
    for (let k = 10; k <= 530; k += 10) run.call.onUpdate(update(k, 10 ** (-k / 60)));
    run.finish({ ok: true, summary: summary(531, 9.7e-9, ["cg+jacobi"]) });
    await done;
    // The solve's final report, on its own port, arrives late (what the live view showed as 1062).
    run.call.onUpdate(update(531, 9.7e-9));
    const s = store.getState();
    expect(s.summary!.iterations).toBe(531);
    expect(s.lastUpdate!.iteration).toBeLessThanOrEqual(531);
    expect(Math.max(...s.history.map((p) => p.iteration))).toBe(531);
    // The chart ends at the certificate, at the final iteration.
    expect(s.history.at(-1)).toEqual({
      iteration: 531,
      residual: 9.7e-9,
      stage: "cg+jacobi",
      certified: true,
    });
  });

  it("a hybrid's stages are lines of their own; the direct solve is the point it reaches", async () => {
    const { client, runs } = scriptedClient();
    const store = createLocalSolveStore(client);
    const done = store.getState().submit(SOURCE, OPTIONS);
    const run = runs[0]!;
    run.call.onUpdate(update(10, 0.5));
    run.call.onUpdate(update(400, 0.1));
    run.call.onUpdate(update(410, 0.09, "cg+ic0"));
    run.call.onUpdate(update(800, 0.08, "cg+ic0"));
    run.call.onUpdate(update(803, 9.7e-9, "direct")); // the monitor's final report
    run.finish({ ok: true, summary: summary(803, 9.7e-9, ["cg+jacobi", "cg+ic0", "direct"]) });
    await done;
    const lines = stageSeries(store.getState().history);
    expect(lines.map((l) => l.label)).toEqual(["cg+jacobi", "cg+ic0", "direct"]);
    // Each line starts where the previous one ended: one path in three colours.
    expect(lines[1]!.points[0]).toEqual(lines[0]!.points.at(-1));
    expect(lines[2]!.points.map((p) => p.iteration)).toEqual([800, 803, 803]);
    expect(lines[2]!.certified).toBe(true);
    expect(lines[2]!.points.at(-1)!.residual).toBe(9.7e-9);
  });

  it("b = 0: no iteration, the chart gets the certified x = 0 point alone", async () => {
    const { client, runs } = scriptedClient();
    const store = createLocalSolveStore(client);
    const done = store.getState().submit(SOURCE, OPTIONS);
    const run = runs[0]!;
    run.call.onUpdate(update(0, 0, "")); // monitor.finish with no stage run
    run.finish({ ok: true, summary: summary(0, 0, ["b = 0, so x = 0"]) });
    await done;
    const lines = stageSeries(store.getState().history);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.label).toBe("b = 0, so x = 0");
    expect(lines[0]!.points).toEqual([
      { iteration: 0, residual: 0, stage: "b = 0, so x = 0", certified: true },
    ]);
  });

  it("a new run clears the previous chart: a failed solve leaves nothing drawn", async () => {
    const { client, runs } = scriptedClient();
    const store = createLocalSolveStore(client);
    const first = store.getState().submit(SOURCE, OPTIONS);
    runs[0]!.call.onUpdate(update(10, 0.1));
    runs[0]!.finish({ ok: true, summary: summary(20, 1e-9, ["cg+jacobi"]) });
    await first;
    expect(stageSeries(store.getState().history)).toHaveLength(1);
    const second = store.getState().submit(SOURCE, OPTIONS);
    runs[1]!.finish({ ok: false, error: { code: "index_out_of_range", message: "row 7 > 3" } });
    await second;
    expect(store.getState().status).toBe("failed");
    expect(store.getState().history).toEqual([]);
    expect(stageSeries(store.getState().history)).toEqual([]);
  });
});
