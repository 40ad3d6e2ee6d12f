import type { Page } from "@playwright/test";
import { mainThreadMetrics, sleep, type Tab } from "./harness.ts";
import { randomRhs, seededRandom, vectorText, type LoadedMatrix } from "./inputs.ts";
import { jobEnds, submit } from "./jobs.ts";
import { drainProbe } from "./probe.ts";
import { startProfile, stopProfile, type Breakdown } from "./cpu-profile.ts";

/**
 * Requester CPU per unit on a job made of many tiny units (a small matrix, one unit per right-hand side),
 * so the requester's per-unit work (assignment, signed messages, blob transfer, verification, IndexedDB,
 * view refresh) is not hidden behind long solves. Measured inside the requester tab, whose own volunteer
 * is paused: Chrome's main-thread CPU time (ThreadTime) and task wall time (TaskDuration) over the job
 * (everything the tab did) and the time spent in Scheduler methods (probe.ts). The end of the job is awaited
 * inside the tab on the jobs store's own (throttled) updates, so the bench does not poll the tab it measures.
 */
export interface CoordinationRun {
  units: number;
  unitsDone: number;
  status: string;
  wallMs: number;
  volunteers: number;
  /** Main-thread CPU time (ThreadTime) per unit. */
  mainThreadMsPerUnit: number;
  /** Main-thread task wall time (TaskDuration) per unit: above the CPU time when the machine is loaded. */
  taskMsPerUnit: number;
  /** Part of mainThreadMsPerUnit spent before submit() resolved: parsing rhs texts, hashing, storing inputs. */
  submitMainThreadMsPerUnit: number;
  /** The tab's main-thread CPU rate with no job (timers, view), ms per s, measured just before. */
  idleMainThreadMsPerS: number;
  /** mainThreadMsPerUnit minus the idle rate over the job's wall time. */
  netMainThreadMsPerUnit: number;
  schedulerMsPerUnit: number;
  schedulerCallsPerUnit: number;
  /** Sampled main-thread ms per unit by category (cpu-profile.ts), when profiled. */
  breakdownMsPerUnit?: Breakdown;
}

export async function runCoordination(o: {
  requester: Tab;
  volunteers: number;
  matrix: LoadedMatrix;
  units: number;
  tol: number;
  seed: number;
  timeoutMs: number;
  /** Profile the requester tab's main thread over the job (source maps in distDir; saveAs: .cpuprofile). */
  profile?: { distDir: string; saveAs?: string };
}): Promise<CoordinationRun> {
  const random = seededRandom(o.seed);
  const texts = Array.from({ length: o.units }, () => vectorText(randomRhs(o.matrix.a.rows, random)));
  await drainProbe(o.requester.page);
  const idle0 = await mainThreadMetrics(o.requester);
  const idleT0 = performance.now();
  await sleep(2_000);
  const idleMainThreadMsPerS =
    ((await mainThreadMetrics(o.requester)).cpuMs - idle0.cpuMs) / ((performance.now() - idleT0) / 1000);
  if (o.profile !== undefined) await startProfile(o.requester);
  const m0 = await mainThreadMetrics(o.requester);
  const t0 = performance.now();
  const id = await submit(o.requester.page, {
    name: `coordination: ${o.matrix.label} × ${o.units} rhs`,
    kind: "multi-rhs",
    matrix: o.matrix.submission,
    rhs: { kind: "texts", texts },
    method: "cg",
    tol: o.tol,
    maxIter: 20_000,
  });
  const mSubmitted = await mainThreadMetrics(o.requester);
  await waitInTab(o.requester.page, id, o.timeoutMs);
  const wallMs = performance.now() - t0;
  const m1 = await mainThreadMetrics(o.requester);
  const [end] = await jobEnds(o.requester.page, [id]);
  const breakdown =
    o.profile === undefined ? undefined : await stopProfile(o.requester, o.profile.distDir, o.profile.saveAs);
  const probe = await drainProbe(o.requester.page);
  const done = Math.max(1, end!.unitsDone);
  return {
    units: o.units,
    unitsDone: end!.unitsDone,
    status: end!.status,
    wallMs,
    volunteers: o.volunteers,
    mainThreadMsPerUnit: (m1.cpuMs - m0.cpuMs) / done,
    taskMsPerUnit: (m1.taskMs - m0.taskMs) / done,
    submitMainThreadMsPerUnit: (mSubmitted.cpuMs - m0.cpuMs) / done,
    idleMainThreadMsPerS,
    netMainThreadMsPerUnit: (m1.cpuMs - m0.cpuMs - (idleMainThreadMsPerS * wallMs) / 1000) / done,
    schedulerMsPerUnit: probe.schedulerMs / done,
    schedulerCallsPerUnit: probe.schedulerCalls / done,
    ...(breakdown === undefined
      ? {}
      : {
          breakdownMsPerUnit: Object.fromEntries(
            Object.entries(breakdown)
              .sort((p, q) => q[1] - p[1])
              .map(([k, ms]) => [k, ms / done]),
          ),
        }),
  };
}

/**
 * Resolves in the tab when the jobs store shows the job ended (or after timeoutMs), without polling. (No
 * `const f = () => …` inside: tsx would wrap it in a __name() helper the page does not have.)
 */
function waitInTab(page: Page, jobId: string, timeoutMs: number): Promise<void> {
  return page.evaluate(
    ({ jobId, timeoutMs }) =>
      new Promise<void>((resolve) => {
        const store = window.openSwarm!.jobs;
        const wait = {
          off: null as null | (() => void),
          timer: undefined as ReturnType<typeof setTimeout> | undefined,
          ended(): boolean {
            const status = store.getState().jobs.find((j) => j.id === jobId)?.status;
            return status !== undefined && status !== "running";
          },
          done(): void {
            wait.off?.();
            clearTimeout(wait.timer);
            resolve();
          },
        };
        if (wait.ended()) return resolve();
        wait.off = store.subscribe(() => {
          if (wait.ended()) wait.done();
        });
        wait.timer = setTimeout(() => wait.done(), timeoutMs);
      }),
    { jobId, timeoutMs },
  );
}
