import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.ts";

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: "open-swarm-signaling" } });
}

/**
 * Keeps hostile traffic from flooding the log: at most `maxPerWindow` lines per key per window; the next
 * line after a quiet spell reports how many were suppressed. Counters in /api/v1/metrics stay exact.
 */
export class LogThrottle {
  private readonly windows = new Map<string, { startMs: number; logged: number; suppressed: number }>();

  constructor(
    private readonly maxPerWindow = 20,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns null to skip this line, or the number of lines suppressed since the last one logged. */
  admit(key: string): number | null {
    const nowMs = this.now();
    let window = this.windows.get(key);
    if (!window || nowMs - window.startMs >= this.windowMs) {
      const suppressed = window?.suppressed ?? 0;
      window = { startMs: nowMs, logged: 0, suppressed: 0 };
      this.windows.set(key, window);
      window.logged++;
      if (this.windows.size > 10_000) this.windows.clear();
      return suppressed;
    }
    if (window.logged >= this.maxPerWindow) {
      window.suppressed++;
      return null;
    }
    window.logged++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    return suppressed;
  }
}
