/**
 * How much of the wall time this tab's volunteer actually computed over a sliding window (default the last
 * minute): busy ms / window ms, 0..1. The Contribute view shows it beside the CPU-share slider, so the
 * person sees what the slider does (the duty cycle idles after each unit; this measures the result).
 *
 * Busy spans are recorded as they end, plus the span running now; spans older than the window are dropped,
 * and a span that started before the window counts only its part inside it.
 */
export const BUSY_WINDOW_MS = 60_000;

export class BusyMeter {
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Ended spans [start, end], oldest first. */
  #spans: [number, number][] = [];
  #openSince: number | null = null;
  /** When measuring began: until a whole window has passed, the fraction is over the time so far. */
  readonly #sinceMs: number;

  constructor(now: () => number, windowMs = BUSY_WINDOW_MS) {
    this.#now = now;
    this.#windowMs = windowMs;
    this.#sinceMs = now();
  }

  start(): void {
    if (this.#openSince === null) this.#openSince = this.#now();
  }

  stop(): void {
    if (this.#openSince === null) return;
    this.add(this.#openSince, this.#now());
    this.#openSince = null;
  }

  /** A span measured elsewhere (a distributed block's step). */
  add(startMs: number, endMs: number): void {
    if (!(endMs > startMs)) return;
    const last = this.#spans[this.#spans.length - 1];
    // Block steps come by the hundred a second: adjacent ones merge, so the list stays short.
    if (last !== undefined && startMs - last[1] < 5 && startMs >= last[0]) last[1] = Math.max(last[1], endMs);
    else this.#spans.push([startMs, endMs]);
    this.#prune(this.#now());
  }

  /** Busy fraction over the window ending now. */
  fraction(): number {
    const now = this.#now();
    this.#prune(now);
    const windowMs = Math.min(this.#windowMs, Math.max(1_000, now - this.#sinceMs));
    const from = now - windowMs;
    let busy = 0;
    let lastEnd = from;
    const spans: [number, number][] =
      this.#openSince === null ? [...this.#spans] : [...this.#spans, [this.#openSince, now]];
    // Overlapping spans (a block step while a unit runs) count once: wall time, not summed work.
    for (const [s, e] of spans.sort((a, b) => a[0] - b[0])) {
      const start = Math.max(s, lastEnd);
      if (e > start) {
        busy += e - start;
        lastEnd = e;
      }
    }
    return Math.min(1, Math.max(0, busy / windowMs));
  }

  #prune(now: number): void {
    const from = now - this.#windowMs;
    while (this.#spans.length > 0 && this.#spans[0]![1] <= from) this.#spans.shift();
  }
}
