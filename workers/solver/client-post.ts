import type { SolveJobOutcome } from "./api.ts";
import {
  type LiveUpdateEvent,
  postToMailbox,
  type SystemUpdates,
} from "../../src/core/solver/updates/index.ts";

/**
 * What became of updates posted to a running solve: applied or rejected by it (with the solver's event),
 * or not taken by it: the solve had finished (or failed), the page has no shared memory (not
 * crossOriginIsolated), or the batch is larger than the mailbox. In the last cases the caller applies the
 * batch with a warm re-solve once the solve is over.
 */
export type PostOutcome =
  | { status: "applied"; event: Extract<LiveUpdateEvent, { type: "update_applied" }> }
  | { status: "rejected"; event: Extract<LiveUpdateEvent, { type: "update_rejected" }> }
  | { status: "not_taken"; why: "finished" | "no_shared_memory" | "too_large"; seq: number };

/** While the previous batch waits in the one-slot mailbox (the loop takes it within an iteration). */
const BUSY_RETRY_MS = 10;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Posts into the solve's mailbox and waits for the solver's verdict (events arrive through Comlink before
 * the solve's return value, so the outcome settling first means the batch was never taken).
 */
export async function postWhileRunning(
  mailbox: SharedArrayBuffer | null,
  seq: number,
  updates: SystemUpdates,
  waiters: Map<number, (e: LiveUpdateEvent) => void>,
  outcome: Promise<SolveJobOutcome>,
): Promise<PostOutcome> {
  if (mailbox === null) return { status: "not_taken", why: "no_shared_memory", seq };
  // Settled either way: a solve the client had to stop rejects, and that is the solve's caller's to handle.
  const ended = outcome.then(
    () => undefined,
    () => undefined,
  );
  let over = false;
  void ended.then(() => (over = true));
  const verdict = new Promise<PostOutcome>((resolve) => {
    waiters.set(seq, (e) => {
      waiters.delete(seq);
      resolve(
        e.type === "update_applied" ? { status: "applied", event: e } : { status: "rejected", event: e },
      );
    });
    void ended.then(() => {
      waiters.delete(seq);
      resolve({ status: "not_taken", why: "finished", seq });
    });
  });
  for (;;) {
    if (over) return { status: "not_taken", why: "finished", seq };
    const posted = postToMailbox(mailbox, seq, updates);
    if (posted === "posted") return verdict;
    if (posted === "closed") return { status: "not_taken", why: "finished", seq };
    if (posted === "too_large") return { status: "not_taken", why: "too_large", seq };
    await delay(BUSY_RETRY_MS);
  }
}
