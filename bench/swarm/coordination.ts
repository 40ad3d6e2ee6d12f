import { mainThreadTaskMs, sleep, type Tab } from "./harness.ts";
import { randomRhs, seededRandom, vectorText, type LoadedMatrix } from "./inputs.ts";
import { submit, waitForJobs } from "./jobs.ts";
import { drainProbe } from "./probe.ts";
import { startProfile, stopProfile, type Breakdown } from "./cpu-profile.ts";

/**
 * Requester CPU per unit on a job made of many tiny units (a small matrix, one unit per right-hand side),
 * so the requester's per-unit work (assignment, signed messages, blob transfer, verification, IndexedDB,
 * view refresh) is not hidden behind long solves. Measured inside the requester tab, whose own volunteer
 * is paused: Chrome's main-thread TaskDuration over the job (everything the tab did) and the time spent in
 * Scheduler methods (probe.ts).
 */
export interface CoordinationRun {
  units: number;
  unitsDone: number;
  status: string;
  wallMs: number;
  volunteers: number;
  mainThreadMsPerUnit: number;
  /** Part of the above spent before submit() resolved: parsing the rhs texts, hashing, storing inputs. */
  submitMainThreadMsPerUnit: number;
  /** The tab's main-thread rate with no job (timers, view), ms per s, measured just before. */
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
  const idle0 = await mainThreadTaskMs(o.requester);
  const idleT0 = performance.now();
  await sleep(2_000);
  const idleMainThreadMsPerS =
    ((await mainThreadTaskMs(o.requester)) - idle0) / ((performance.now() - idleT0) / 1000);
  if (o.profile !== undefined) await startProfile(o.requester);
  const cpu0 = await mainThreadTaskMs(o.requester);
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
  const cpuSubmitted = await mainThreadTaskMs(o.requester);
  const [end] = await waitForJobs(o.requester.page, [id], o.timeoutMs);
  const wallMs = performance.now() - t0;
  const cpu1 = await mainThreadTaskMs(o.requester);
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
    mainThreadMsPerUnit: (cpu1 - cpu0) / done,
    submitMainThreadMsPerUnit: (cpuSubmitted - cpu0) / done,
    idleMainThreadMsPerS,
    netMainThreadMsPerUnit: (cpu1 - cpu0 - (idleMainThreadMsPerS * wallMs) / 1000) / done,
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
