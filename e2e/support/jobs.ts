// Helpers for the jobs specs: drive a tab's requester and volunteer through the ?test=1 hook.
import type {} from "../../src/state/swarm/boot.ts";
import { expect, type Page } from "@playwright/test";
import type { JobSubmission, JobView, UnitView, VolunteerState } from "../../src/state/jobs/types.ts";

/** Waits until the tab's requester and volunteer runtimes run. */
export async function jobsReady(page: Page): Promise<void> {
  await page.evaluate(() => window.openSwarm!.jobsReady);
}

/** Waits until this tab has an authenticated link to each of `peerIds`. */
export async function waitForLinks(page: Page, peerIds: readonly string[], timeoutMs = 20_000) {
  await page.evaluate(
    async ({ ids, timeoutMs }) => {
      const swarm = await window.openSwarm!.ready;
      await Promise.all(ids.map((id) => swarm.mesh.waitForPeer(id, timeoutMs)));
    },
    { ids: [...peerIds], timeoutMs },
  );
}

/**
 * Submits a job in the page and returns its id. The submission is started in the page and its outcome
 * polled, instead of awaiting the page's promise through page.evaluate: Chromium fails a long awaited
 * evaluation with "Resulting promise was garbage collected" (seen under load on distributed submissions,
 * even with the promise held in a global).
 */
export async function submitJob(page: Page, submission: JobSubmission, timeoutMs = 120_000): Promise<string> {
  type Outcome = { state: "pending" } | { state: "done"; id: string } | { state: "failed"; message: string };
  const key = await page.evaluate((s) => {
    const g = globalThis as { __openSwarmSubmits?: Record<string, Outcome> };
    const outcomes = (g.__openSwarmSubmits ??= {});
    const k = crypto.randomUUID();
    outcomes[k] = { state: "pending" };
    window
      .openSwarm!.jobs.getState()
      .actions.submit(s)
      .then(
        (id) => (outcomes[k] = { state: "done", id }),
        (e: unknown) =>
          (outcomes[k] = { state: "failed", message: e instanceof Error ? e.message : String(e) }),
      );
    return k;
  }, submission);
  let outcome: Outcome = { state: "pending" };
  await expect
    .poll(
      async () => {
        outcome = await page.evaluate(
          (k) => (globalThis as { __openSwarmSubmits?: Record<string, Outcome> }).__openSwarmSubmits![k]!,
          key,
        );
        return outcome.state;
      },
      { timeout: timeoutMs, intervals: [50, 100, 250] },
    )
    .not.toBe("pending");
  // Assigned in the poll's callback, which TypeScript's narrowing does not see.
  const final = outcome as Outcome;
  if (final.state === "failed") throw new Error(`submit failed: ${final.message}`);
  if (final.state !== "done") throw new Error("submit still pending");
  return final.id;
}

export interface JobSnapshot {
  job: JobView | null;
  units: UnitView[];
}

export function jobSnapshot(page: Page, jobId: string): Promise<JobSnapshot> {
  return page.evaluate((id) => {
    const state = window.openSwarm!.jobs.getState();
    return { job: state.jobs.find((j) => j.id === id) ?? null, units: state.units[id] ?? [] };
  }, jobId);
}

/** Polls until the job is no longer running; returns its final snapshot. */
export async function waitForJobEnd(page: Page, jobId: string, timeoutMs: number): Promise<JobSnapshot> {
  await expect
    .poll(async () => (await jobSnapshot(page, jobId)).job?.status ?? "missing", {
      timeout: timeoutMs,
      intervals: [250],
    })
    .not.toMatch(/^(running|missing)$/);
  // The views refresh on a short timer: wait for the final unit states too.
  await expect
    .poll(async () => (await jobSnapshot(page, jobId)).units.filter((u) => u.status === "done").length, {
      timeout: 5_000,
    })
    .toBe((await jobSnapshot(page, jobId)).job!.unitsDone);
  return jobSnapshot(page, jobId);
}

export function volunteerState(page: Page): Promise<Omit<VolunteerState, "actions">> {
  return page.evaluate(() => {
    const { actions: _a, ...rest } = window.openSwarm!.volunteer.getState();
    void _a;
    return rest;
  });
}

/** Attempt outcomes recorded on the job's units (from the requester's scheduler). */
export function attemptOutcomes(page: Page, jobId: string): Promise<string[]> {
  return page.evaluate((id) => {
    const rt = window.openSwarm!.jobs.runtime();
    return (rt?.units(id) ?? []).flatMap((u) => u.history.map((h) => h.outcome));
  }, jobId);
}
