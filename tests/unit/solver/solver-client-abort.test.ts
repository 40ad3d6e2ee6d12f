import { afterEach, describe, expect, it, vi } from "vitest";
import { SolverClient } from "../../../workers/solver/client.ts";
import type { SolveJobOptions } from "../../../workers/solver/api.ts";
import { FaultInjectingSolverWorker, type CancelFault } from "./fault-injecting-solver-worker.ts";

const OPTIONS: SolveJobOptions = { method: "cg", tol: 1e-8, maxIter: 1000, backend: "js" };
const SOURCE = { kind: "generated", name: "poisson2d-10" } as const;

/** A client whose workers are fault-injecting fakes; `workers` lists every one it started. */
function clientWith(fault: CancelFault): { client: SolverClient; workers: FaultInjectingSolverWorker[] } {
  const workers: FaultInjectingSolverWorker[] = [];
  const client = new SolverClient(() => {
    const worker = new FaultInjectingSolverWorker(fault);
    workers.push(worker);
    return worker;
  });
  workersByClient.set(client, workers);
  return { client, workers };
}

const workersByClient = new WeakMap<SolverClient, FaultInjectingSolverWorker[]>();
function workersOf(client: SolverClient): FaultInjectingSolverWorker[] {
  return workersByClient.get(client) ?? [];
}

/** Starts a solve and aborts it once its first update arrived; answers the outcome and the abort time. */
async function solveThenAbort(client: SolverClient) {
  const abort = new AbortController();
  let firstUpdate: () => void = () => undefined;
  const updated = new Promise<void>((resolve) => (firstUpdate = resolve));
  const handle = client.solve(SOURCE, OPTIONS, { signal: abort.signal, onUpdate: () => firstUpdate() });
  await updated;
  const abortedAt = performance.now();
  abort.abort();
  // Read before any timer can run: whether the abort itself ended the worker.
  const terminatedByAbort = workersOf(client).at(-1)?.terminated ?? false;
  return { outcome: handle.outcome, abortedAt, terminatedByAbort };
}

describe("SolverClient: aborting a solve", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("raises the shared flag; a worker that stops answers with the cancelled result it reached", async () => {
    vi.stubGlobal("crossOriginIsolated", true);
    const { client, workers } = clientWith("honours-flag");
    const { outcome } = await solveThenAbort(client);
    const o = await outcome;
    expect(o.ok && o.summary.reason).toBe("cancelled");
    expect(workers[0]!.flagsSeen).toBe(1);
    expect(workers[0]!.terminated).toBe(false);
    client.dispose();
  });

  it("terminates a worker that ignores the flag after its grace period and rejects with an AbortError", async () => {
    vi.stubGlobal("crossOriginIsolated", true);
    const { client, workers } = clientWith("ignores-flag");
    const { outcome, abortedAt } = await solveThenAbort(client);
    await expect(outcome).rejects.toMatchObject({ name: "AbortError", code: "cancelled" });
    const stoppedMs = performance.now() - abortedAt;
    expect(workers[0]!.flagsSeen).toBeGreaterThan(0); // it saw the flag, and did not stop
    expect(workers[0]!.terminated).toBe(true);
    // Not before its grace period (a timer never fires early); how late it fires depends on the machine's
    // load, and the fake never stops by itself, so the rejection above already proves the termination.
    expect(stoppedMs).toBeGreaterThanOrEqual(450);

    // The next solve gets a fresh worker.
    const next = await solveThenAbort(client);
    await expect(next.outcome).rejects.toMatchObject({ code: "cancelled" });
    expect(workers).toHaveLength(2);
    client.dispose();
  });

  it("without shared memory terminates the worker at once", async () => {
    vi.stubGlobal("crossOriginIsolated", false);
    const { client, workers } = clientWith("honours-flag");
    const { outcome, terminatedByAbort } = await solveThenAbort(client);
    expect(terminatedByAbort, "terminated within the abort itself, with no grace timer").toBe(true);
    await expect(outcome).rejects.toMatchObject({ name: "AbortError", code: "cancelled" });
    expect(workers[0]!.terminated).toBe(true);
    client.dispose();
  });

  it("never starts a worker for a signal aborted before the call", async () => {
    const { client, workers } = clientWith("honours-flag");
    const handle = client.solve(SOURCE, OPTIONS, { signal: AbortSignal.abort(), onUpdate: () => undefined });
    await expect(handle.outcome).rejects.toMatchObject({ name: "AbortError", code: "cancelled" });
    expect(workers).toHaveLength(0);
    client.dispose();
  });
});
