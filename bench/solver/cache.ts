import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface CacheLevel {
  level: number;
  bytes: number;
}

/** "48K", "2048K", "260M" → bytes (Linux sysfs notation); null when unreadable. */
function parseSize(s: string): number | null {
  const m = /^(\d+)\s*([KMG]?)$/i.exec(s.trim());
  if (m === null) return null;
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as "" | "K" | "M" | "G"];
  return Number(m[1]) * unit;
}

/**
 * The largest data/unified cache of CPU 0 as Linux reports it (/sys/devices/system/cpu/cpu0/cache), or
 * null elsewhere. Used only to say, in the bench output, what STREAM's array-size rule would need.
 */
export function lastLevelCache(dir = "/sys/devices/system/cpu/cpu0/cache"): CacheLevel | null {
  let best: CacheLevel | null = null;
  try {
    for (const entry of readdirSync(dir)) {
      if (!entry.startsWith("index")) continue;
      const read = (f: string): string => readFileSync(join(dir, entry, f), "utf8").trim();
      if (read("type") === "Instruction") continue;
      const level = Number(read("level"));
      const bytes = parseSize(read("size"));
      if (bytes !== null && Number.isInteger(level) && (best === null || level > best.level))
        best = { level, bytes };
    }
  } catch {
    return best;
  }
  return best;
}
