import { CodedError } from "../base/coded-error.ts";
import type { DirectoryErrorCode, DirectoryPeer } from "../protocol/directory.ts";

/** What a directory query answered: a random pick of matching peers, how many match, how many are online. */
export interface QueryResult {
  readonly peers: readonly DirectoryPeer[];
  readonly matched: number;
  readonly total: number;
}

/** A watched set changed: peers that came online (or began to match) and those that went. */
export interface WatchChange {
  readonly id: string;
  readonly joined: readonly DirectoryPeer[];
  readonly left: readonly string[];
}

export type DirectoryQueryErrorCode = DirectoryErrorCode | "timeout" | "disconnected";

export class DirectoryQueryError extends CodedError<DirectoryQueryErrorCode> {
  override readonly name = "DirectoryQueryError";
}

type Answer = { kind: "query"; value: QueryResult } | { kind: "subscribed"; value: readonly DirectoryPeer[] };

interface Waiting {
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: DirectoryQueryError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The client's side of queries and subscribes: each request carries a fresh id, and its answer (or an
 * error frame naming that id) settles the promise. A lost session fails everything outstanding at once, so
 * a caller never waits for an answer that cannot come.
 */
export class PendingQueries {
  private readonly waiting = new Map<string, Waiting>();
  private nextId = 1;

  /** Registers a request and returns its id and the promise its answer settles. */
  open(timeoutMs: number): { id: string; answer: Promise<Answer> } {
    const id = `q${this.nextId++}`;
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new DirectoryQueryError("timeout", `no directory answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
    return { id, answer };
  }

  /** An answer arrived; false when nothing waits for that id (late, or not ours). */
  settle(id: string, answer: Answer): boolean {
    const waiting = this.take(id);
    waiting?.resolve(answer);
    return waiting !== undefined;
  }

  /** An error frame named this id; false when nothing waits for it. */
  fail(id: string, code: DirectoryErrorCode, message: string): boolean {
    const waiting = this.take(id);
    waiting?.reject(new DirectoryQueryError(code, message));
    return waiting !== undefined;
  }

  /** The session is gone: nothing outstanding can be answered. */
  failAll(reason: string): void {
    for (const id of [...this.waiting.keys()]) {
      this.take(id)?.reject(new DirectoryQueryError("disconnected", reason));
    }
  }

  private take(id: string): Waiting | undefined {
    const waiting = this.waiting.get(id);
    if (!waiting) return undefined;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    return waiting;
  }
}
