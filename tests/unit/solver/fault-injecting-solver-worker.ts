import * as Comlink from "comlink";
import type { SolveJobOutcome, SolverWorkerApi } from "../../../workers/solver/api.ts";
import type { SolverWorkerPort } from "../../../workers/solver/client.ts";

/**
 * TEST ONLY: a fake solver worker that injects a fault into cancellation, to prove the client's abort path.
 * It runs in the test's own thread behind a MessageChannel (Comlink on both ends, as with a real worker);
 * its solve streams an update, then spins on a timer until the client's shared cancel flag is raised:
 *
 * - "honours-flag": a well-behaved solver: it notices the flag and answers with a cancelled result;
 * - "ignores-flag": the fault: it never notices the flag (a solver stuck in a loop that reads no flag),
 *   so only terminating it stops it.
 */
export type CancelFault = "honours-flag" | "ignores-flag";

const POLL_MS = 5;

export class FaultInjectingSolverWorker implements SolverWorkerPort {
  readonly #port: MessagePort;
  readonly #remote: MessagePort;
  /** Cancel flags the solves saw raised, and whether terminate() was called. */
  flagsSeen = 0;
  solvesStarted = 0;
  terminated = false;

  constructor(fault: CancelFault) {
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#remote = channel.port2;
    const solve = async (
      onUpdate: Parameters<SolverWorkerApi["solve"]>[2],
      flag: Int32Array | null,
    ): Promise<SolveJobOutcome> => {
      this.solvesStarted++;
      await onUpdate({
        type: "iteration_update",
        method: "cg",
        iteration: 1,
        residual_norm: 0.5,
        convergence_rate: 0.5,
        performance: { iteration_time_ms: 1, flops: 1, memory_bytes: 1 },
      });
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (this.terminated) return new Promise<never>(() => undefined);
        if (flag === null || Atomics.load(flag, 0) !== 1) continue;
        this.flagsSeen++;
        if (fault === "honours-flag") return cancelledOutcome();
      }
    };
    const api: SolverWorkerApi = {
      solve: (_source, _options, onUpdate, flag) => solve(onUpdate, flag),
      resolveWarm: (_updates, _seq, _options, onUpdate, flag) => solve(onUpdate, flag),
    };
    Comlink.expose(api, this.#remote);
  }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.#port.postMessage(message, transfer ?? []);
  }

  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    this.#port.addEventListener(type, listener);
  }

  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    this.#port.removeEventListener(type, listener);
  }

  start(): void {
    this.#port.start();
  }

  terminate(): void {
    this.terminated = true;
    this.#port.close();
    this.#remote.close();
  }
}

function cancelledOutcome(): SolveJobOutcome {
  return {
    ok: true,
    summary: {
      name: "fake",
      n: 1,
      nnz: 1,
      rhsIsAOnes: false,
      converged: false,
      reason: "cancelled",
      iterations: 1,
      relResidual: 0.5,
      bestResidual: 0.5,
      methodPath: ["cg"],
      stages: [],
      backend: "js",
      threads: 1,
      ms: 1,
      setupMs: 0,
      notes: [],
      x: new Float64Array(1),
    },
  };
}
