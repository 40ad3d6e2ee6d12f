import { EventLog, type SessionEvent } from "../event-log.ts";
import type { Where } from "../where.ts";
import type { JobKind } from "./job-schemas.ts";

export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled";

/** Where a job is computed: volunteers through the server's requester, the server's threads, the experts. */
export type ComputedOn = "swarm" | "server" | "experts";

/** One unit of a solve job (a right-hand side, a group of them, or a row block) and where it ran. */
export interface JobUnit {
  readonly index: number;
  readonly status: "pending" | "running" | "done" | "failed";
  /** null until some volunteer or the server holds it. */
  readonly where: Where | null;
}

/** The job's results, once done (the shape depends on the kind: job-results.ts). */
export type JobResults = Readonly<Record<string, unknown>>;

/** Job events kept for a subscriber that (re)subscribes from an event id (as sessions keep theirs). */
const REPLAY_EVENTS = 64;

/**
 * One job of POST /api/v1/jobs: who owns it, its status and progress, where each unit ran, why it ran
 * there (notes), its errors and, once done, its results. Every change is a `job_update` event (the status
 * document, without results) for /api/v1/ws subscribers. The runner (solve-job.ts, expert-job.ts) changes
 * it; routes only read it. `abort` is how DELETE reaches the runner.
 */
export class Job {
  status: JobStatus = "queued";
  computedOn: ComputedOn | null = null;
  progress = { done: 0, total: 0 };
  units: JobUnit[] = [];
  /** Expert jobs: rows accepted from each host ("local": computed by the server's own router). */
  rowsBySource: Readonly<Record<string, number>> | null = null;
  readonly notes: string[] = [];
  readonly errors: { code: string; message: string }[] = [];
  results: JobResults | null = null;
  finishedAtMs: number | null = null;
  readonly createdAtMs = Date.now();
  readonly abort = new AbortController();
  readonly events = new EventLog(REPLAY_EVENTS);
  readonly #listeners = new Set<(event: SessionEvent) => void>();
  readonly #endListeners = new Set<() => void>();

  constructor(
    readonly id: string,
    readonly owner: string,
    readonly kind: JobKind,
    /** "units" for solve jobs, "rows" for expert jobs. */
    readonly progressOf: "units" | "rows",
  ) {}

  get finished(): boolean {
    return this.finishedAtMs !== null;
  }

  /** Applies `change` (while the job has not finished) and tells subscribers. */
  update(change: (job: this) => void): void {
    if (this.finished) return;
    change(this);
    this.#emit();
  }

  note(message: string): void {
    this.update((job) => job.notes.push(message));
  }

  /** Ends the job (once): its final status, results or error; subscribers get the last update and end. */
  finish(
    status: "done" | "failed" | "cancelled",
    results: JobResults | null,
    error?: Error & { code?: string },
  ) {
    if (this.finished) return;
    this.status = status;
    this.results = results;
    if (error !== undefined) this.errors.push({ code: error.code ?? "job_failed", message: error.message });
    this.finishedAtMs = Date.now();
    this.#emit();
    for (const onEnd of [...this.#endListeners]) onEnd();
    this.#listeners.clear();
    this.#endListeners.clear();
  }

  /** The status document (GET /jobs/:id, every job_update event). */
  view(): Record<string, unknown> {
    return {
      job_id: this.id,
      kind: this.kind,
      status: this.status,
      created_at: new Date(this.createdAtMs).toISOString(),
      finished_at: this.finishedAtMs === null ? null : new Date(this.finishedAtMs).toISOString(),
      elapsed_ms: (this.finishedAtMs ?? Date.now()) - this.createdAtMs,
      progress: { of: this.progressOf, ...this.progress },
      computed_on: this.computedOn,
      units: this.units,
      rows_by_source: this.rowsBySource,
      notes: this.notes,
      errors: this.errors,
      links: jobLinks(this.id),
    };
  }

  /** Subscribes to events from now on; returns the unsubscribe. */
  listen(onEvent: (event: SessionEvent) => void, onEnd: () => void): () => void {
    this.#listeners.add(onEvent);
    this.#endListeners.add(onEnd);
    return () => {
      this.#listeners.delete(onEvent);
      this.#endListeners.delete(onEnd);
    };
  }

  #emit(): void {
    const event = this.events.append("job_update", JSON.stringify({ type: "job_update", ...this.view() }));
    for (const listener of [...this.#listeners]) listener(event);
  }
}

/** Where a job's status, results and events are (`events`: subscribe with {job_id} on the WebSocket). */
export function jobLinks(id: string): { self: string; results: string; events: string } {
  const self = `/api/v1/jobs/${id}`;
  return { self, results: `${self}/results`, events: "/api/v1/ws" };
}
