/**
 * One event of a session, as both wire formats carry it: NDJSON `{type, ...data}`, SSE `id/event/data`; or
 * of a job (api/jobs/job.ts: `job_update`, its status whenever it changed, over /api/v1/ws).
 */
export interface SessionEvent {
  /** 1, 2, 3, ... per session: the SSE `id:` a client resumes from with Last-Event-ID. */
  readonly id: number;
  readonly type:
    | "iteration_update"
    | "verification_result"
    | "update_applied"
    | "update_rejected"
    | "solve_result"
    | "job_update";
  /** The event's JSON line (with `type`), serialised once however many clients read it. */
  readonly json: string;
}

/**
 * The last `capacity` events of a session, for Last-Event-ID replay: bounded, so a session that runs for
 * hours holds a few hundred lines, not its whole history. Updates are posted at most every few tens of
 * ms (solve-worker.ts), so the default buffer spans several seconds of a running solve, and the whole
 * tail of a finished one.
 */
export class EventLog {
  private readonly ring: SessionEvent[] = [];
  private nextId = 1;

  constructor(private readonly capacity: number) {}

  append(type: SessionEvent["type"], json: string): SessionEvent {
    const event = { id: this.nextId++, type, json };
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    return event;
  }

  /** Events after `lastId`, or null when some of them have left the buffer (the client cannot resume). */
  since(lastId: number): SessionEvent[] | null {
    const first = this.ring[0];
    if (first === undefined) return lastId < this.nextId ? [] : null;
    if (lastId < first.id - 1) return null;
    return this.ring.filter((e) => e.id > lastId);
  }

  get lastId(): number {
    return this.nextId - 1;
  }
}
