import type { CsrMatrix } from "../../sparse/csr.ts";
import type { SystemUpdates } from "./patch.ts";

/** One batch of updates as a running solve receives it; `seq` lets the poster match the outcome event. */
export interface UpdateBatch {
  seq: number;
  updates: SystemUpdates;
}

/**
 * Where a running solve finds updates posted while it iterates. The solve loop is synchronous (in a Web
 * Worker or in Node), so it cannot receive messages: it asks `pending()` at every iteration boundary (it
 * must be as cheap as the cancel flag: one atomic load) and `take()`s a batch when there is one.
 * Implementations: createUpdateQueue (same thread), mailboxSource (another thread, over shared memory).
 */
export interface UpdateSource {
  pending(): boolean;
  /** The waiting batch (consumed), or null. */
  take(): UpdateBatch | null;
  /**
   * The solve is about to return: refuse later posts (their poster re-solves warm instead). False when a
   * batch arrived meanwhile and is still waiting: the solve takes it and goes on.
   */
  close(): boolean;
}

export type LiveUpdateEvent =
  | {
      type: "update_applied";
      seq: number;
      /** Global iteration count when the update took effect (the chart marks it). */
      iteration: number;
      matrixEntries: number;
      rhsEntries: number;
      /** Entries outside A's pattern that were inserted (the CSR was rebuilt). */
      newEntries: number;
      /** The method's tracked residual on the old system just before the update. */
      residualBefore: number;
      /** ‖b − A x‖/‖b‖ of the current x on the updated system (a cold start from x = 0 has 1). */
      residualAfter: number;
    }
  | { type: "update_rejected"; seq: number; iteration: number; code: string; message: string };

/** What a solve with live updates reports (SolveResult.updates). */
export interface UpdatesReport {
  applied: number;
  rejected: number;
  /** Iterations run on the final system: since the last applied update (all of them when none was). */
  iterationsSinceLastUpdate: number;
  /** Global iteration at which the last update was applied (null: none). */
  lastUpdateIteration: number | null;
  /** residualAfter of the last applied update: where the warm start began (cold: 1). */
  warmStartResidual: number | null;
  events: LiveUpdateEvent[];
  /** The system x solves (by reference; the input system when nothing was applied). */
  system: { a: CsrMatrix; b: Float64Array };
}

export interface LiveUpdateOptions {
  source: UpdateSource;
  /** Called inside the solve loop when a batch is applied or rejected. */
  onEvent?: (event: LiveUpdateEvent) => void;
}

/** A same-thread UpdateSource: post() from a callback the loop runs (onUpdate), or between solves. */
export interface UpdateQueue extends UpdateSource {
  /** False when the solve already returned (closed): apply the batch with a warm re-solve instead. */
  post(updates: SystemUpdates): boolean;
}

export function createUpdateQueue(): UpdateQueue {
  const waiting: UpdateBatch[] = [];
  let closed = false;
  let seq = 0;
  return {
    post(updates) {
      if (closed) return false;
      waiting.push({ seq: ++seq, updates });
      return true;
    },
    pending: () => waiting.length > 0,
    take: () => waiting.shift() ?? null,
    close() {
      if (waiting.length > 0) return false;
      closed = true;
      return true;
    },
  };
}
