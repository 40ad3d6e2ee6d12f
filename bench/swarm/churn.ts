import type { JobSubmission } from "../../src/state/jobs/types.ts";
import { link, pauseVolunteer, sleep, type Harness, type Tab } from "./harness.ts";
import { loadMatrix, randomRhs, seededRandom, vectorText, type LoadedMatrix } from "./inputs.ts";
import { acceptedResults, attemptHistory, downloadSolutions, jobEnds, submit, waitForJobs } from "./jobs.ts";
import { independentRelResidual } from "./residual.ts";

/**
 * Churn: one requester submits `jobs` jobs at seeded random times while a third of the volunteer tabs are
 * closed at seeded random times; one more volunteer runs the test-only FaultInjection "perturb" mode
 * (?fault=perturb) the whole time. Afterwards every accepted solution is downloaded and its residual is
 * recomputed in Node by bench/swarm/residual.ts (not the product's code): any above the job's tolerance is
 * a wrong result accepted.
 */
export interface ChurnOptions {
  harness: Harness;
  jobs: number;
  honestVolunteers: number;
  seed: number;
  tol: number;
  submitWindowMs: number;
  killWindowMs: number;
  timeoutMs: number;
  matricesDir: string;
  log: (line: string) => void;
}

interface PlannedJob {
  submission: JobSubmission;
  a: LoadedMatrix["a"];
  bs: Float64Array[];
  atMs: number;
}

export interface KillEvent {
  label: string;
  atMs: number;
  wasComputing: boolean;
  jobsRunning: number;
  /** Units the requester had leased to the victim when it was killed. */
  unitsInFlight: number;
}

export interface ChurnResult {
  churn_jobs_total: number;
  churn_jobs_completed: number;
  wrong_results_accepted: number;
  volunteers_total: number;
  volunteers_killed: number;
  fault_injecting_volunteers: number;
  kills: KillEvent[];
  solutions_checked: number;
  worst_independent_rel_residual: number | null;
  liar_results_sent: number;
  liar_results_accepted: number;
  invalid_results_rejected: number;
  /** Attempts that ended because their volunteer went away (disconnected, heartbeat or deadline). */
  attempts_lost_to_churn: number;
  /** Attempt endings recorded against the killed volunteers, by outcome. */
  victim_attempt_outcomes: Record<string, number>;
  liar_banned: boolean | null;
  wall_s: number;
  failures: { job: string; status: string; error: string | null }[];
}

function planJobs(o: ChurnOptions, random: () => number): PlannedJob[] {
  const cache = new Map<string, LoadedMatrix>();
  const matrix = (key: string, make: () => LoadedMatrix) => {
    let m = cache.get(key);
    if (m === undefined) cache.set(key, (m = make()));
    return m;
  };
  const file = (name: string) =>
    matrix(name, () => loadMatrix({ kind: "file", path: `${o.matricesDir}/${name}` }));
  const grid = (k: number) =>
    matrix(`p${k}`, () => loadMatrix({ kind: "generated", name: `poisson2d-${k}` }));
  const plans: PlannedJob[] = [];
  for (let i = 0; i < o.jobs; i++) {
    // A mix of real SuiteSparse systems and generated ones, single solves and small many-rhs batches, heavy
    // enough that the volunteers are busy through the kill window (bcsstk13 takes ~1000 CG iterations).
    const pick = i % 5;
    const m =
      pick <= 1
        ? file("bcsstk13.mtx")
        : pick === 2
          ? file("494_bus.mtx")
          : pick === 3
            ? file("LFAT5.mtx")
            : grid(150 + Math.floor(random() * 100));
    const rhsCount = 2 + Math.floor(random() * 3);
    const bs = Array.from({ length: rhsCount }, () => randomRhs(m.a.rows, random));
    plans.push({
      submission: {
        name: `churn-${i} ${m.label} × ${rhsCount}`,
        kind: rhsCount === 1 ? "solve" : "multi-rhs",
        matrix: m.submission,
        rhs: { kind: "texts", texts: bs.map(vectorText) },
        method: "cg",
        tol: o.tol,
        maxIter: 20_000,
      },
      a: m.a,
      bs,
      atMs: random() * o.submitWindowMs,
    });
  }
  return plans.sort((p, q) => p.atMs - q.atMs);
}

export async function runChurn(o: ChurnOptions): Promise<ChurnResult> {
  const random = seededRandom(o.seed);
  const plans = planJobs(o, random);
  const requester = await o.harness.openTab("churn-requester");
  await pauseVolunteer(requester); // the volunteers are the other tabs
  const honest: Tab[] = [];
  for (let i = 0; i < o.honestVolunteers; i++) honest.push(await o.harness.openTab(`honest-${i + 1}`));
  const liar = await o.harness.openTab("liar", "&fault=perturb");
  const volunteers = [...honest, liar];
  await link(requester, volunteers);

  // A third of all volunteers (rounded up) are killed; victims are honest tabs, so the liar stays present.
  const killCount = Math.min(honest.length, Math.ceil(volunteers.length / 3));
  const victims = [...honest].sort(() => random() - 0.5).slice(0, killCount);
  const killTimes = victims
    .map(() => 1_000 + random() * Math.max(0, o.killWindowMs - 1_000))
    .sort((p, q) => p - q);

  const ids: string[] = [];
  const idPlan = new Map<string, PlannedJob>();
  const kills: KillEvent[] = [];
  const t0 = performance.now();
  const submitting = (async () => {
    for (const plan of plans) {
      const wait = plan.atMs - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      const id = await submit(requester.page, plan.submission);
      ids.push(id);
      idPlan.set(id, plan);
    }
  })();
  const killing = (async () => {
    for (let i = 0; i < victims.length; i++) {
      const wait = killTimes[i]! - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      const victim = victims[i]!;
      const wasComputing = await victim.page
        .evaluate(() => window.openSwarm!.volunteer.getState().status === "computing")
        .catch(() => false);
      const running = (await jobEnds(requester.page, [...ids])).filter((e) => e.status === "running").length;
      const unitsInFlight = await requester.page.evaluate(
        (id) =>
          window
            .openSwarm!.jobs.runtime()!
            .scheduler.volunteers()
            .find((v) => v.peerId === id)?.inFlight ?? 0,
        victim.peerId,
      );
      await o.harness.closeTab(victim);
      kills.push({
        label: victim.label,
        atMs: Math.round(performance.now() - t0),
        wasComputing,
        jobsRunning: running,
        unitsInFlight,
      });
      o.log(
        `  killed ${victim.label} at ${(kills.at(-1)!.atMs / 1000).toFixed(1)} s (computing: ${wasComputing}, units leased to it: ${unitsInFlight})`,
      );
    }
  })();
  await Promise.all([submitting, killing]);
  const ends = await waitForJobs(requester.page, ids, o.timeoutMs);
  const wallS = (performance.now() - t0) / 1000;

  let wrong = 0;
  let checked = 0;
  let worst: number | null = null;
  let liarAccepted = 0;
  let invalid = 0;
  let lost = 0;
  const victimOutcomes: Record<string, number> = {};
  const failures: ChurnResult["failures"] = [];
  for (const end of ends) {
    const plan = idPlan.get(end.id)!;
    const history = await attemptHistory(requester.page, end.id);
    const outcomes = history.map((h) => h.outcome);
    for (const h of history) {
      if (victims.some((v) => v.peerId === h.volunteerId)) {
        victimOutcomes[h.outcome] = (victimOutcomes[h.outcome] ?? 0) + 1;
      }
    }
    invalid += outcomes.filter((x) => x === "invalid-result").length;
    lost += outcomes.filter(
      (x) => x === "disconnected" || x === "heartbeat-timeout" || x === "deadline-expired",
    ).length;
    const accepted = await acceptedResults(requester.page, end.id);
    liarAccepted += accepted.filter((r) => r.volunteerId === liar.peerId).length;
    if (end.status !== "done") {
      failures.push({ job: plan.submission.name, status: end.status, error: end.error });
      continue;
    }
    const xs = await downloadSolutions(requester.page, end.id);
    if (xs.length !== plan.bs.length) {
      wrong += plan.bs.length; // a done job that cannot give back every solution is counted as wrong
      continue;
    }
    for (let i = 0; i < xs.length; i++) {
      const rel = independentRelResidual(plan.a, xs[i]!, plan.bs[i]!);
      checked++;
      worst = worst === null ? rel : Math.max(worst, rel);
      if (!(rel <= plan.submission.tol)) wrong++;
    }
  }
  const liarSent = await liar.page.evaluate(() =>
    Object.values(window.openSwarm!.volunteer.getState().resultsSent ?? {}).reduce((s, n) => s + n, 0),
  );
  const liarStats = await requester.page.evaluate(
    (id) =>
      window
        .openSwarm!.jobs.runtime()!
        .scheduler.volunteers()
        .find((v) => v.peerId === id) ?? null,
    liar.peerId,
  );
  for (const tab of [requester, ...volunteers]) if (!tab.closed) await o.harness.closeTab(tab);
  return {
    churn_jobs_total: plans.length,
    churn_jobs_completed: ends.filter((e) => e.status === "done").length,
    wrong_results_accepted: wrong,
    volunteers_total: volunteers.length,
    volunteers_killed: kills.length,
    fault_injecting_volunteers: 1,
    kills,
    solutions_checked: checked,
    worst_independent_rel_residual: worst,
    liar_results_sent: liarSent,
    liar_results_accepted: liarAccepted,
    invalid_results_rejected: invalid,
    attempts_lost_to_churn: lost,
    victim_attempt_outcomes: victimOutcomes,
    liar_banned: liarStats === null ? null : liarStats.banned,
    wall_s: wallS,
    failures,
  };
}
