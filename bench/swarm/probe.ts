import type { Page } from "@playwright/test";
import type {} from "../../src/state/test-hook.ts";

/**
 * Instruments the requester tab, from the outside, without changing the product:
 *  - every Scheduler method the runtime calls is wrapped with performance.now() accumulation (the
 *    requester's decision logic: leases, assignment, verdicts, change tracking);
 *  - a listener on the mesh's "signed" event records each unit-result body as it arrives, with the compute
 *    time the volunteer reports in it (its solver's own ms, inside its Web Worker);
 *  - scheduler.onResult → onVerified per (unit, attempt) gives the in-tab wall time from a result's arrival
 *    to its verdict: an upper bound on verification (it also waits for the solution blobs and IndexedDB).
 */
export interface ProbeResult {
  unitId: string;
  attempt: number;
  from: string;
  computeMs: number;
}

export interface ProbeSnapshot {
  schedulerMs: number;
  schedulerCalls: number;
  results: ProbeResult[];
  /** `${unitId}#${attempt}` → ms from scheduler.onResult to scheduler.onVerified. */
  verdictWallMs: Record<string, number>;
}

interface ProbeState extends ProbeSnapshot {
  started: Record<string, number>;
}

declare global {
  interface Window {
    __swarmBenchProbe?: ProbeState;
  }
}

const WRAPPED = [
  "tick",
  "onHeartbeat",
  "onResult",
  "onVerified",
  "onUnitError",
  "onDisconnect",
  "volunteersChanged",
  "drainChanges",
  "addJob",
  "cancelJob",
] as const;

export async function installProbe(page: Page): Promise<void> {
  await page.evaluate(async (names) => {
    if (window.__swarmBenchProbe !== undefined) return;
    const hook = window.openSwarm!;
    const swarm = await hook.ready;
    await hook.jobsReady;
    const rt = hook.jobs.runtime();
    if (rt === null) throw new Error("the requester runtime is not attached");
    const state: ProbeState = {
      schedulerMs: 0,
      schedulerCalls: 0,
      results: [],
      verdictWallMs: {},
      started: {},
    };
    window.__swarmBenchProbe = state;
    const scheduler = rt.scheduler as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const name of names) {
      const original = scheduler[name];
      if (typeof original !== "function") throw new Error(`Scheduler.${name} is not a method any more`);
      const bound = original.bind(rt.scheduler);
      scheduler[name] = (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return bound(...args);
        } finally {
          state.schedulerMs += performance.now() - t0;
          state.schedulerCalls++;
          if (name === "onResult") state.started[`${String(args[0])}#${String(args[1])}`] = t0;
          if (name === "onVerified") {
            const key = `${String(args[0])}#${String(args[1])}`;
            const s = state.started[key];
            if (s !== undefined) state.verdictWallMs[key] = performance.now() - s;
          }
        }
      };
    }
    swarm.mesh.on("signed", (event) => {
      const body = event.body as { type: string; unitId?: unknown; attempt?: unknown; computeMs?: unknown };
      if (body.type !== "unit-result") return;
      state.results.push({
        unitId: String(body.unitId),
        attempt: Number(body.attempt),
        from: event.from,
        computeMs: Number(body.computeMs),
      });
    });
  }, WRAPPED);
}

/** Reads and clears what the probe collected so far. */
export function drainProbe(page: Page): Promise<ProbeSnapshot> {
  return page.evaluate(() => {
    const s = window.__swarmBenchProbe!;
    const out: ProbeSnapshot = {
      schedulerMs: s.schedulerMs,
      schedulerCalls: s.schedulerCalls,
      results: s.results,
      verdictWallMs: s.verdictWallMs,
    };
    s.schedulerMs = 0;
    s.schedulerCalls = 0;
    s.results = [];
    s.verdictWallMs = {};
    s.started = {};
    return out;
  });
}
