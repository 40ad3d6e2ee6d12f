import type { Page } from "@playwright/test";
import type {} from "../../src/state/test-hook.ts";
import type { JobSubmission } from "../../src/state/jobs/types.ts";
import { sleep } from "./harness.ts";

export interface JobEnd {
  id: string;
  status: string;
  unitsTotal: number;
  unitsDone: number;
  worstRelResidual: number | null;
  error: string | null;
}

export function submit(page: Page, submission: JobSubmission): Promise<string> {
  return page.evaluate((s) => window.openSwarm!.jobs.getState().actions.submit(s), submission);
}

export function jobEnds(page: Page, ids: readonly string[]): Promise<JobEnd[]> {
  return page.evaluate((ids) => {
    const rt = window.openSwarm!.jobs.runtime()!;
    const jobs = rt.jobs();
    return ids.map((id) => {
      const job = jobs.find((j) => j.id === id);
      const units = rt.units(id);
      const done = units.filter((u) => u.status === "done");
      const residuals = done.map((u) => rt.unitResidual(u.id)).filter((r): r is number => r !== null);
      return {
        id,
        status: job?.status ?? "missing",
        unitsTotal: units.length,
        unitsDone: done.length,
        worstRelResidual: residuals.length > 0 ? Math.max(...residuals) : null,
        error:
          job === undefined ? "job missing" : job.status === "done" ? null : (job.outcome?.message ?? null),
      };
    });
  }, ids);
}

/** Polls (straight from the runtime, not the throttled views) until no job of `ids` runs or time is up. */
export async function waitForJobs(page: Page, ids: readonly string[], timeoutMs: number): Promise<JobEnd[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ends = await jobEnds(page, ids);
    if (ends.every((e) => e.status !== "running" && e.status !== "missing") || Date.now() > deadline) {
      return ends;
    }
    await sleep(100);
  }
}

/** Each done unit's accepted attempt and volunteer (the scheduler's ResultRef). */
export function acceptedResults(
  page: Page,
  jobId: string,
): Promise<{ unitId: string; index: number; attempt: number; volunteerId: string }[]> {
  return page.evaluate((id) => {
    const rt = window.openSwarm!.jobs.runtime()!;
    return rt
      .units(id)
      .filter((u) => u.status === "done" && u.result !== null)
      .map((u) => ({
        unitId: u.id,
        index: u.index,
        attempt: u.result!.attempt,
        volunteerId: u.result!.volunteerId,
      }));
  }, jobId);
}

/** Every attempt that ended without a verified result, for the job's units: who and how. */
export function attemptHistory(
  page: Page,
  jobId: string,
): Promise<{ volunteerId: string; outcome: string }[]> {
  return page.evaluate((id) => {
    const rt = window.openSwarm!.jobs.runtime()!;
    return rt
      .units(id)
      .flatMap((u) => u.history.map((h) => ({ volunteerId: h.volunteerId, outcome: h.outcome })));
  }, jobId);
}

/** The job's verified solutions as the user downloads them (actions.solutions), one per right-hand side. */
export async function downloadSolutions(page: Page, jobId: string): Promise<Float64Array[]> {
  const encoded = await page.evaluate(async (id) => {
    const xs = await window.openSwarm!.jobs.getState().actions.solutions(id);
    return xs.map((x) => {
      const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      let s = "";
      for (let i = 0; i < bytes.length; i += 0x8000) {
        s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      }
      return btoa(s);
    });
  }, jobId);
  return encoded.map((b64) => {
    const buf = Buffer.from(b64, "base64");
    const copy = new Uint8Array(buf.length);
    copy.set(buf);
    return new Float64Array(copy.buffer);
  });
}
