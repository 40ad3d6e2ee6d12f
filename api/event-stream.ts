import type { Response } from "express";
import type { SessionEvent } from "./event-log.ts";

export type StreamFormat = "ndjson" | "sse";

/** Content types of the two formats; NDJSON unless the client asks for SSE. */
export const CONTENT_TYPES: Readonly<Record<StreamFormat, string>> = {
  ndjson: "application/x-ndjson; charset=utf-8",
  sse: "text/event-stream; charset=utf-8",
};

export function formatOf(accept: string | undefined): StreamFormat {
  return accept !== undefined && accept.includes("text/event-stream") ? "sse" : "ndjson";
}

function frame(format: StreamFormat, event: SessionEvent): string {
  return format === "ndjson"
    ? `${event.json}\n`
    : `id: ${event.id}\nevent: ${event.type}\ndata: ${event.json}\n\n`;
}

/** Progress replaces older progress of its kind; an update's outcome (one per accepted POST) is never replaced. */
function coalescingKey(event: SessionEvent): string {
  return event.type === "iteration_update" || event.type === "verification_result"
    ? event.type
    : `${event.type}:${event.id}`;
}

/**
 * One client's stream of a session's events, with backpressure: while the socket's buffer is full
 * (`write` returned false), new events wait in `pending`, ONE per type — a newer iteration_update replaces
 * an unsent older one (counted as coalesced), so a slow reader costs a bounded amount of memory and never
 * slows the solve; the final solve_result is never dropped. Sending resumes on 'drain'.
 */
export class EventStream {
  private readonly pending = new Map<string, SessionEvent>();
  private blocked = false;
  private ended = false;

  constructor(
    private readonly res: Response,
    readonly format: StreamFormat,
    private readonly onCoalesced: () => void,
  ) {
    res.status(200);
    res.setHeader("Content-Type", CONTENT_TYPES[format]);
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Accel-Buffering", "no"); // a reverse proxy must not hold the stream back
    res.flushHeaders();
    res.on("drain", () => this.flush());
  }

  /** Sends one event, or queues it (replacing an unsent one of its type) while the socket is full. */
  send(event: SessionEvent): void {
    if (this.ended) return;
    if (this.blocked) {
      const key = coalescingKey(event);
      if (this.pending.has(key)) this.onCoalesced();
      this.pending.set(key, event);
      return;
    }
    this.blocked = !this.res.write(frame(this.format, event));
  }

  /** Ends the response once everything queued is written. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.blocked) this.res.end();
  }

  private flush(): void {
    this.blocked = false;
    const queued = [...this.pending.values()].sort((p, q) => p.id - q.id);
    this.pending.clear();
    for (const event of queued) this.blocked = !this.res.write(frame(this.format, event)) || this.blocked;
    if (this.ended && !this.blocked) this.res.end();
  }
}
