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

export function submitJob(page: Page, submission: JobSubmission): Promise<string> {
  return page.evaluate((s) => {
    const submitted = window.openSwarm!.jobs.getState().actions.submit(s);
    // Chromium rejects an awaited evaluation whose promise is garbage collected ("Resulting promise was
    // garbage collected"); a distributed submission awaits long enough for that to happen under load.
    // The page keeps a reference until it settles.
    const pending = ((globalThis as { __openSwarmSubmits?: Set<Promise<string>> }).__openSwarmSubmits ??=
      new Set());
    pending.add(submitted);
    return submitted.finally(() => pending.delete(submitted));
  }, submission);
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
