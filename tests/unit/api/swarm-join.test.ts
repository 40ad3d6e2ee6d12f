import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SWARM_SETTINGS } from "../../../api/swarm-config.ts";
import { ServerSwarm } from "../../../api/swarm-requester.ts";
import { ServerMetrics } from "../../../signaling/metrics.ts";

// The server's requester when the swarm cannot be joined (nothing listens at the origin: a forced
// failure): the origin's health probe fails fast (no join is left retrying), the failure is counted and
// logged, and the next sessions within the rejoin delay do not wait for another attempt; they go to the
// server's threads (swarm-solve.ts gets null).

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("ServerSwarm join failure", () => {
  it("fails once, is counted and logged, and is not retried before the rejoin delay", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "open-swarm-api-join-"));
    dirs.push(dataDir);
    const logs: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void logs.push(JSON.parse(l)) });
    const metrics = new ServerMetrics();
    const swarm = new ServerSwarm(
      { ...DEFAULT_SWARM_SETTINGS, dataDir, joinTimeoutMs: 30_000, rejoinAfterMs: 60_000 },
      metrics,
      logger,
    );
    // Port 1 on loopback: nothing listens, the connection is refused.
    await expect(swarm.requester("http://127.0.0.1:1")).resolves.toBeNull();
    expect(metrics.api.swarmJoinFailures).toBe(1);
    expect(logs.some((l) => l["event"] === "api_swarm_join_failed")).toBe(true);
    await expect(swarm.requester("http://127.0.0.1:1")).resolves.toBeNull();
    expect(metrics.api.swarmJoinFailures).toBe(1);
    expect(swarm.peerId).toBeNull();
    expect(swarm.joining).toBe(false);
    await swarm.close();
  });
});
