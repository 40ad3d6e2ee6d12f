import type { RouterHostSnapshot } from "../../src/core/experts/router/index.ts";
import type {} from "../../src/state/experts/jobs-test-hook.ts";
import type { ClassifySnapshot } from "../../src/state/experts/jobs-test-hook.ts";
import { link, sleep, type Harness, type Tab } from "../swarm/harness.ts";
import type { LatencyRow, SwarmRow } from "./rows.ts";
import { median, perSecond } from "./stats.ts";

/**
 * Swarm throughput: one requester tab classifies `images` bundled test images through its router (the
 * product's classify job: gate here, expert rows to the volunteer tabs over WebRTC, canaries, adaptive
 * replication, combine) with 1, 2, 4… volunteer tabs. Tabs are added between stages and stay. Per stage: one
 * untimed warm-up job (new hosts load their experts), then `reps` timed jobs; after each, the requester runs
 * the single-process moe-int8 graph on the same images and counts rows whose prediction differs.
 */
export interface SwarmStageResult {
  readonly row: Omit<SwarmRow, "relative_to_first">;
  readonly failures: readonly string[];
}

export interface SwarmPhase {
  readonly requester: Tab;
  readonly volunteers: Tab[];
  label(peerId: string): string;
}

export async function openRequester(harness: Harness): Promise<SwarmPhase> {
  const requester = await harness.openTab("requester");
  await expertsReady(requester);
  const volunteers: Tab[] = [];
  return {
    requester,
    volunteers,
    label(peerId) {
      if (peerId === requester.peerId) return "requester";
      if (peerId === "local") return "local";
      const i = volunteers.findIndex((v) => v.peerId === peerId);
      return i >= 0 ? volunteers[i]!.label : `peer ${peerId.slice(0, 8)}`;
    },
  };
}

export async function runStage(
  harness: Harness,
  phase: SwarmPhase,
  volunteerTabs: number,
  images: number,
  reps: number,
  log: (line: string) => void,
): Promise<SwarmStageResult> {
  const failures: string[] = [];
  while (phase.volunteers.length < volunteerTabs) {
    const tab = await harness.openTab(`volunteer-${phase.volunteers.length + 1}`);
    await expertsReady(tab);
    phase.volunteers.push(tab);
  }
  await link(phase.requester, phase.volunteers);
  const ids = [phase.requester.peerId, ...phase.volunteers.map((v) => v.peerId)];

  const warm = await classify(phase.requester, images);
  if (warm.phase !== "done") failures.push(`warm-up job ${warm.phase}: ${warm.error?.message ?? "?"}`);
  if (!(await placementSettled(phase.requester, ids, 30_000))) {
    failures.push(`${volunteerTabs} volunteer(s): not every placed expert was ready on its host after 30 s`);
  }

  const jobMs: number[] = [];
  const bySource = new Map<string, number>();
  let mismatches = 0;
  let compared = 0;
  for (let i = 0; i < reps; i++) {
    const job = await classify(phase.requester, images);
    if (job.phase !== "done" || job.elapsedMs === null) {
      failures.push(`${volunteerTabs} volunteer(s), job ${i + 1}: ${job.phase} ${job.error?.message ?? ""}`);
      continue;
    }
    jobMs.push(job.elapsedMs);
    for (const [source, rows] of Object.entries(job.rowsBySource)) {
      const key = phase.label(source);
      bySource.set(key, (bySource.get(key) ?? 0) + rows);
    }
    const whole = await phase.requester.page.evaluate(() => window.openSwarm!.expertJobs!.wholeGraph());
    if (whole.mismatches === null) failures.push(`job ${i + 1}: no predictions to compare`);
    else {
      mismatches += whole.mismatches;
      compared += whole.rows;
    }
    log(
      `  ${volunteerTabs} volunteer(s), job ${i + 1}: ${job.elapsedMs.toFixed(0)} ms, ${whole.mismatches} mismatches`,
    );
  }
  const total = [...bySource.values()].reduce((s, x) => s + x, 0);
  const rates = jobMs.map((ms) => perSecond(images, ms)).filter((x): x is number => x !== null);
  return {
    row: {
      volunteer_tabs: volunteerTabs,
      hosts: volunteerTabs + 1,
      images,
      jobs: jobMs.length,
      images_per_s_median: median(rates),
      job_ms: jobMs.map((ms) => Math.round(ms)),
      rows_share_by_source: Object.fromEntries(
        [...bySource].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, total > 0 ? v / total : 0]),
      ),
      mismatches_vs_whole_graph: mismatches,
      rows_compared: compared,
    },
    failures,
  };
}

/** Per-host round-trip latency from the requester router's host stats (its last 512 requests per host). */
export async function hostLatencies(phase: SwarmPhase): Promise<LatencyRow[]> {
  const hosts: RouterHostSnapshot[] = await phase.requester.page.evaluate(() => [
    ...(window.openSwarm!.expertJobs!.state().router?.hosts ?? []),
  ]);
  return hosts.map((h) => ({
    host: h.peerId === phase.requester.peerId ? "requester (loopback, no WebRTC)" : phase.label(h.peerId),
    requests: h.requests,
    p50_ms: h.p50Ms,
    p99_ms: h.p99Ms,
    ewma_ms_per_row: h.ewmaMsPerRow,
  }));
}

async function expertsReady(tab: Tab): Promise<void> {
  const status = await tab.page.evaluate(async () => {
    const hook = window.openSwarm!.expertJobs;
    if (!hook) return "no expertJobs test hook";
    await hook.ready;
    for (let i = 0; i < 200 && hook.state().manifestStatus === "loading"; i++)
      await new Promise((r) => setTimeout(r, 50));
    return hook.state().manifestStatus;
  });
  if (status !== "ready") throw new Error(`${tab.label}: experts not ready (${status})`);
}

function classify(tab: Tab, images: number): Promise<ClassifySnapshot> {
  return tab.page.evaluate((n) => window.openSwarm!.expertJobs!.classifyTestSet(n), images);
}

/** Every host of `ids` is connected, not paused or suspended, and has loaded every expert placed on it. */
async function placementSettled(tab: Tab, ids: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await tab.page.evaluate((wanted) => {
      const router = window.openSwarm!.expertJobs!.state().router;
      if (!router) return false;
      return wanted.every((id) => {
        const h = router.hosts.find((x) => x.peerId === id);
        return (
          h !== undefined &&
          h.connected &&
          !h.paused &&
          !h.suspended &&
          h.banned === null &&
          h.placed.length > 0 &&
          h.placed.every((e) => h.ready.includes(e))
        );
      });
    }, ids);
    if (ok) return true;
    await sleep(200);
  }
  return false;
}
