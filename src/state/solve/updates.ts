import { parseUpdateText, type SystemUpdates } from "../../core/solver/updates/index.ts";
import { isInputError } from "../../core/sparse/errors.ts";

/** A point on the residual chart where an update took effect. */
export interface ChartMarker {
  iteration: number;
  label: string;
}

/** One batch of "Update entries" and what became of it. */
export interface UpdateLogEntry {
  seq: number;
  /** e.g. "2 entries of A, 1 of b (replace)". */
  what: string;
  status: "posted" | "applied" | "rejected" | "queued";
  message: string;
}

export interface QueuedBatch {
  seq: number;
  updates: SystemUpdates;
}

/** Errors of a refused batch (the solver's SolverError codes and the worker's): the old result stands. */
export function isUpdateErrorCode(code: string): boolean {
  return code.startsWith("update_") || code === "no_kept_system";
}

export function describeBatch(u: SystemUpdates, mode: "set" | "add"): string {
  const m = u.matrix?.length ?? 0;
  const r = u.rhs?.length ?? 0;
  const parts = [];
  if (m > 0) parts.push(`${m} entr${m === 1 ? "y" : "ies"} of A`);
  if (r > 0) parts.push(`${r} of b`);
  return `${parts.join(", ")} (${mode === "add" ? "add" : "replace"})`;
}

/** Several batches as one, in order (applyUpdates applies entries in order, so this changes nothing). */
export function mergeBatches(batches: readonly QueuedBatch[]): QueuedBatch {
  return {
    seq: batches[batches.length - 1]!.seq,
    updates: {
      matrix: batches.flatMap((b) => b.updates.matrix ?? []),
      rhs: batches.flatMap((b) => b.updates.rhs ?? []),
    },
  };
}

/** The typed text as 0-based updates, or the parser's error code and message (with the line). */
export function parseUpdateInput(
  text: string,
  n: number | null,
  mode: "set" | "add",
): { ok: true; updates: SystemUpdates } | { ok: false; error: { code: string; message: string } } {
  try {
    return { ok: true, updates: parseUpdateText(text, n, mode) };
  } catch (e) {
    if (isInputError(e)) return { ok: false, error: { code: e.code, message: e.message } };
    throw e;
  }
}
