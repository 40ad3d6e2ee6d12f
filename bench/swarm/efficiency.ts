import type { JobSubmission } from "../../src/state/jobs/types.ts";
import { link, mainThreadTaskMs, type Harness, type Tab } from "./harness.ts";
import { randomRhs, seededRandom, vectorText, type LoadedMatrix } from "./inputs.ts";
import { acceptedResults, downloadSolutions, submit, waitForJobs } from "./jobs.ts";
import { drainProbe, type ProbeSnapshot } from "./probe.ts";
import { timeVerification } from "./verification.ts";

/**
 * Throughput of one many-right-hand-side job (one unit per right-hand side) with 1, 2, 4 volunteer tabs.
 * The requester tab's own volunteer is paused, so "N volunteers" means N other tabs. Tabs are added as N
 * grows; each new set first runs an untimed warm-up job (worker start, WASM compile, matrix transfer).
 */
export interface EfficiencyRun {
  volunteers: number;
  repeat: number;
  wallMs: number;
  rhsPerS: number;
  unitsDone: number;
  unitsTotal: number;
  status: string;
  requesterMainThreadMs: number;
  probe: ProbeSnapshot;
  verifyNodeMs: number;
  /** Volunteer-reported compute ms of the accepted results. */
  acceptedComputeMs: number;
  acceptedUnits: number;
  worstRelResidual: number | null;
}

export interface EfficiencyOptions {
  harness: Harness;
  requester: Tab;
  volunteerCounts: number[];
  matrix: LoadedMatrix;
  rhsCount: number;
  repeats: number;
  tol: number;
  seed: number;
  timeoutMs: number;
  log: (line: string) => void;
}

export async function runEfficiency(o: EfficiencyOptions): Promise<{ runs: EfficiencyRun[]; tabs: Tab[] }> {
  const random = seededRandom(o.seed);
  const { a } = o.matrix;
  const bs = Array.from({ length: o.rhsCount }, () => randomRhs(a.rows, random));
  const texts = bs.map(vectorText);
  const submission = (name: string, rhsTexts: string[]): JobSubmission => ({
    name,
    kind: "multi-rhs",
    matrix: o.matrix.submission,
    rhs: { kind: "texts", texts: rhsTexts },
    method: "cg",
    tol: o.tol,
    maxIter: 20_000,
  });
  const tabs: Tab[] = [];
  const runs: EfficiencyRun[] = [];
  for (const n of o.volunteerCounts) {
    while (tabs.length < n) tabs.push(await o.harness.openTab(`volunteer-${tabs.length + 1}`));
    await link(o.requester, tabs);
    // Warm-up: 2 units per volunteer, not timed.
    const warm = await submit(o.requester.page, submission(`warm-up ×${n}`, texts.slice(0, 2 * n)));
    await waitForJobs(o.requester.page, [warm], o.timeoutMs);
    for (let r = 0; r < o.repeats; r++) {
      await drainProbe(o.requester.page);
      const cpu0 = await mainThreadTaskMs(o.requester);
      const t0 = performance.now();
      const id = await submit(
        o.requester.page,
        submission(`${o.matrix.label} × ${o.rhsCount} rhs, ${n} vol`, texts),
      );
      const [end] = await waitForJobs(o.requester.page, [id], o.timeoutMs);
      const wallMs = performance.now() - t0;
      const cpu1 = await mainThreadTaskMs(o.requester);
      const probe = await drainProbe(o.requester.page);
      const accepted = await acceptedResults(o.requester.page, id);
      let verifyNodeMs = 0;
      let acceptedComputeMs = 0;
      if (end!.status === "done") {
        const xs = await downloadSolutions(o.requester.page, id);
        verifyNodeMs = timeVerification(a, bs, xs, o.tol).totalMs;
      }
      for (const acc of accepted) {
        const reported = probe.results.find((p) => p.unitId === acc.unitId && p.attempt === acc.attempt);
        if (reported !== undefined) acceptedComputeMs += reported.computeMs;
      }
      const run: EfficiencyRun = {
        volunteers: n,
        repeat: r,
        wallMs,
        rhsPerS: (end!.unitsDone / wallMs) * 1000,
        unitsDone: end!.unitsDone,
        unitsTotal: end!.unitsTotal,
        status: end!.status,
        requesterMainThreadMs: cpu1 - cpu0,
        probe,
        verifyNodeMs,
        acceptedComputeMs,
        acceptedUnits: accepted.length,
        worstRelResidual: end!.worstRelResidual,
      };
      runs.push(run);
      o.log(
        `  ${n} volunteer(s), run ${r + 1}: ${end!.status}, ${(wallMs / 1000).toFixed(2)} s, ` +
          `${run.rhsPerS.toFixed(2)} rhs/s, worst certified residual ${end!.worstRelResidual?.toExponential(2)}`,
      );
    }
  }
  return { runs, tabs };
}
