import type { ClassifySnapshot } from "../../src/state/experts/jobs-test-hook.ts";
import type { ClassifyJobTimeline } from "../../src/state/experts/types.ts";
import type { Harness, Tab } from "../swarm/harness.ts";
import type { FirstRunStart } from "./args.ts";
import { median, perSecond } from "./stats.ts";

/**
 * The first classify job a user runs, against the second in the same tabs. Each repeat opens fresh tabs
 * (new browser contexts: empty model caches, no worker started, a fresh reputation book): `volunteers`
 * volunteer tabs, then a requester on the Experts view (where a user starts a job; opening it starts the
 * prefetch, and the overlay finds hosts through the directory: nothing here links the tabs), waits until
 * its router has every volunteer as a placement candidate (`found_ms`, from the view's opening), then
 * classifies `images` test images twice at once. The job's own elapsed time is what the view shows (from
 * Run to done, inputs included).
 */
export interface FirstRunRepeat {
  /** From opening the Experts view until its router had every volunteer as a candidate (found, linked,
   *  heard from): the overlay's discovery. */
  readonly found_ms: number;
  /** With --first-run-start warm (ready): from opening the view until every volunteer had loaded the experts
   *  placed on it (and was trusted); null when the job started once found. */
  readonly warm_ms: number | null;
  /** Volunteers with every expert placed on them loaded when the first job started. */
  readonly warm_at_first_job: number;
  readonly first_ms: number;
  readonly second_ms: number;
  readonly first_over_second: number;
  /** Share of the expert rows the requester computed itself (canaries and fallback), first job. */
  readonly first_local_share: number;
  readonly second_local_share: number;
  /** Where each job's time went (ClassifyJobView.timeline): what the first pays that the second does not. */
  readonly first_timeline: ClassifyJobTimeline | null;
  readonly second_timeline: ClassifyJobTimeline | null;
}

export interface FirstRunSummary {
  readonly volunteer_tabs: number;
  readonly images: number;
  readonly repeats: FirstRunRepeat[];
  readonly start: FirstRunStart;
  readonly found_ms_median: number | null;
  readonly warm_ms_median: number | null;
  readonly first_ms_median: number | null;
  readonly second_ms_median: number | null;
  readonly first_images_per_s_median: number | null;
  readonly second_images_per_s_median: number | null;
  /** Median over repeats of first/second, and its spread. */
  readonly first_run_over_second: number | null;
  readonly first_run_over_second_min: number | null;
  readonly first_run_over_second_max: number | null;
}

export async function measureFirstRuns(
  harness: Harness,
  volunteers: number,
  images: number,
  repeats: number,
  log: (line: string) => void,
  failures: string[],
  start: FirstRunStart = "found",
): Promise<FirstRunSummary> {
  const done: FirstRunRepeat[] = [];
  for (let r = 0; r < repeats; r++) {
    const tabs: Tab[] = [];
    try {
      for (let v = 0; v < volunteers; v++)
        tabs.push(await harness.openTab(`first-run-${r + 1}-volunteer-${v + 1}`));
      const opened = performance.now();
      const requester = await harness.openTab(`first-run-${r + 1}-requester`, "#/experts");
      tabs.unshift(requester);
      let warm = await waitFound(requester, tabs.slice(1), 30_000, false, false);
      const foundMs = performance.now() - opened;
      let warmMs: number | null = null;
      if (start !== "found") {
        warm = await waitFound(requester, tabs.slice(1), 30_000, true, start === "ready");
        warmMs = performance.now() - opened;
      }
      const first = await classify(requester, images);
      const second = await classify(requester, images);
      if (first.phase !== "done" || second.phase !== "done" || !first.elapsedMs || !second.elapsedMs) {
        failures.push(
          `first run ${r + 1}: ${first.phase}/${second.phase} ${first.error?.message ?? second.error?.message ?? ""}`,
        );
        continue;
      }
      const row: FirstRunRepeat = {
        found_ms: Math.round(foundMs),
        warm_ms: warmMs === null ? null : Math.round(warmMs),
        warm_at_first_job: warm,
        first_ms: Math.round(first.elapsedMs),
        second_ms: Math.round(second.elapsedMs),
        first_over_second: first.elapsedMs / second.elapsedMs,
        first_local_share: localShare(first),
        second_local_share: localShare(second),
        first_timeline: first.timeline,
        second_timeline: second.timeline,
      };
      done.push(row);
      log(
        `  first run ${r + 1}: volunteers found ${row.found_ms} ms after the view opened` +
          `${warmMs === null ? "" : `, warm ${row.warm_ms} ms`} (${warm} warm at the job), first ${row.first_ms} ms (local ${(row.first_local_share * 100).toFixed(1)} %), ` +
          `second ${row.second_ms} ms, ratio ${row.first_over_second.toFixed(2)}`,
      );
      const names = new Map(tabs.map((t, i) => [t.peerId, i === 0 ? "self" : `v${i}`]));
      log(`    first:  ${describeTimeline(first.timeline)}; rows ${describeSources(first, names)}`);
      log(`    second: ${describeTimeline(second.timeline)}; rows ${describeSources(second, names)}`);
    } finally {
      for (const tab of tabs) await harness.closeTab(tab);
    }
  }
  const ratios = done.map((d) => d.first_over_second);
  const firstMs = median(done.map((d) => d.first_ms));
  const secondMs = median(done.map((d) => d.second_ms));
  return {
    volunteer_tabs: volunteers,
    images,
    repeats: done,
    start,
    found_ms_median: median(done.map((d) => d.found_ms)),
    warm_ms_median: start !== "found" ? median(done.map((d) => d.warm_ms ?? 0)) : null,
    first_ms_median: firstMs,
    second_ms_median: secondMs,
    first_images_per_s_median: firstMs === null ? null : perSecond(images, firstMs),
    second_images_per_s_median: secondMs === null ? null : perSecond(images, secondMs),
    first_run_over_second: median(ratios),
    first_run_over_second_min: ratios.length > 0 ? Math.min(...ratios) : null,
    first_run_over_second_max: ratios.length > 0 ? Math.max(...ratios) : null,
  };
}

/** "inputs 120, router 130, probes 135, gate 180, canaries 400, batches 1500 ms (cumulative); ..." */
function describeTimeline(t: ClassifyJobTimeline | null): string {
  if (!t) return "no timeline";
  const r = t.router;
  const at = (ms: number): string => ms.toFixed(0);
  return (
    `inputs ${at(t.inputsMs)}, router ${at(t.routerMs)}, probes ${at(t.probesMs)}, then gate ` +
    `+${at(r.gateDoneMs)}, canaries +${at(r.canariesDoneMs)}, batches +${at(r.batchesDoneMs)} ms; ` +
    `warm wait ${at(r.warmWaitMs)} ms summed (until +${at(r.warmWaitEndMs)}), ${r.replicatedBatches}/${r.remoteBatches} remote answers replicated`
  );
}

/** "local 80, self 420, v1 250, v2 250": who computed the job's expert rows (self: the requester's own
 *  host, through the loopback; local: its router, i.e. canaries, arbitration, fallback). */
function describeSources(job: ClassifySnapshot, names: ReadonlyMap<string, string>): string {
  return Object.entries(job.rowsBySource)
    .map(([id, n]) => `${names.get(id) ?? id.slice(0, 6)} ${n}`)
    .sort()
    .join(", ");
}

function localShare(job: ClassifySnapshot): number {
  const total = Object.values(job.rowsBySource).reduce((s, n) => s + n, 0);
  return total > 0 ? (job.rowsBySource["local"] ?? 0) / total : 0;
}

/** Waits until the requester's router has every volunteer as a placement candidate (and, when `warm`,
 *  each has loaded every expert placed on it); resolves with how many of them have by then. */
async function waitFound(
  requester: Tab,
  volunteers: readonly Tab[],
  timeoutMs: number,
  warm: boolean,
  trusted: boolean,
): Promise<number> {
  const ids = volunteers.map((t) => t.peerId);
  await requester.page.waitForFunction(
    ({ want, warm, trusted }) => {
      const router = window.openSwarm?.expertJobs?.state().router;
      if (!router || !want.every((id) => router.candidates.includes(id))) return false;
      // (No named functions in here: tsx would wrap them in a helper the page does not have.)
      return (
        !warm ||
        want.every((id) =>
          router.hosts.some(
            (h) =>
              h.peerId === id &&
              h.placed.length > 0 &&
              h.placed.every((e) => h.ready.includes(e)) &&
              (!trusted || h.trusted),
          ),
        )
      );
    },
    { want: ids, warm, trusted },
    { timeout: timeoutMs, polling: 50 },
  );
  return requester.page.evaluate((want) => {
    const hosts = window.openSwarm!.expertJobs!.state().router?.hosts ?? [];
    return hosts.filter(
      (h) => want.includes(h.peerId) && h.placed.length > 0 && h.placed.every((e) => h.ready.includes(e)),
    ).length;
  }, ids);
}

function classify(tab: Tab, images: number): Promise<ClassifySnapshot> {
  return tab.page.evaluate((n) => window.openSwarm!.expertJobs!.classifyTestSet(n), images);
}
