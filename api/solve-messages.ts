import type { CsrMatrix } from "../src/core/sparse/csr.ts";
import type { MethodName, PreconditionerName } from "../src/core/protocol/solver-names.ts";
import type { LiveUpdateEvent } from "../src/core/solver/updates/index.ts";

/** What the server posts to a solver thread (api/solve-worker.ts) to start one solve. */
export interface ThreadSolveRequest {
  readonly a: CsrMatrix;
  readonly b: Float64Array;
  readonly method: MethodName;
  readonly tol: number;
  readonly maxIter: number;
  readonly preconditioner: PreconditionerName | undefined;
  readonly timeLimitMs: number;
  /** Iterations between the monitor's updates (≤ the verification interval). */
  readonly updateEvery: number;
  /** Entries of x at the head of every posted update. */
  readonly xHead: number;
  /** Updates are posted at most this often (a small system iterates far faster than anyone reads). */
  readonly minUpdateMs: number;
  /** The full iterate rides along at most this often, and on every update due for verification. */
  readonly xEveryMs: number;
  readonly verifyEvery: number;
  /** 1 = stop (SharedArrayBuffer, so it reaches a busy thread). */
  readonly stop: Int32Array;
  /** Cost updates posted while the solve runs (core solver/updates/mailbox.ts: shared memory, read by the
   *  loop itself, since the thread cannot take messages until the solve returns). */
  readonly mailbox: SharedArrayBuffer;
}

/** An update of A or b was applied to the running solve (warm restart from the current x), or refused. */
export interface ThreadLiveEvent {
  readonly kind: "live";
  readonly event: LiveUpdateEvent;
}

export interface ThreadUpdate {
  readonly kind: "update";
  readonly method: string;
  readonly iteration: number;
  readonly residualNorm: number;
  readonly convergenceRate: number;
  readonly performance: { iteration_time_ms: number; flops: number; memory_bytes: number };
  readonly xHead: Float64Array;
  /** The whole current iterate, when due (see xEveryMs); the server keeps the latest. */
  readonly x: Float64Array | null;
  /** This update's x is the one to verify (the verification interval was crossed). */
  readonly verify: boolean;
}

export interface ThreadSolved {
  readonly kind: "done";
  readonly ok: true;
  readonly x: Float64Array;
  readonly converged: boolean;
  readonly reason: string;
  readonly iterations: number;
  readonly relResidual: number;
  readonly methodPath: string[];
  readonly backend: string;
  readonly ms: number;
}

export interface ThreadFailed {
  readonly kind: "done";
  readonly ok: false;
  readonly code: string;
  readonly message: string;
}

export type ThreadReply = ThreadUpdate | ThreadLiveEvent | ThreadSolved | ThreadFailed;
