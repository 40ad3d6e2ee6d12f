// Helpers for the experts specs: drive a tab's classify jobs through the ?test=1 hook (expertJobs).
import type {} from "../../src/state/swarm/boot.ts";
import { expect, type Page } from "@playwright/test";
import type { RouterHostSnapshot } from "../../src/core/experts/router/types.ts";
import type { ClassifySnapshot } from "../../src/state/experts/jobs-test-hook.ts";

/** Waits for the tab's experts (host running, jobs accepted) and its model manifest; answers the
 *  manifest's status ("ready" when it loaded; "no-hook" without the test hook). */
export function expertsReady(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const hook = window.openSwarm!.expertJobs;
    if (!hook) return "no-hook";
    await hook.ready;
    for (let i = 0; i < 100 && hook.state().manifestStatus === "loading"; i++)
      await new Promise((r) => setTimeout(r, 100));
    return hook.state().manifestStatus;
  });
}

/** Runs a classify job of the first `count` test images in the tab (resolves when it ended), one of its
 *  first batches forced onto each peer of `firstBatchTo` (test-only; none forced when empty), waiting up
 *  to `waitMs` for them. */
export function classifyImages(
  page: Page,
  count: number,
  firstBatchTo: readonly string[],
  waitMs: number,
): Promise<ClassifySnapshot> {
  return page.evaluate(
    ({ n, to, waitMs }) =>
      window.openSwarm!.expertJobs!.classifyTestSet(
        n,
        to.length > 0 ? { firstBatchTo: to, firstBatchWaitMs: waitMs } : {},
      ),
    { n: count, to: [...firstBatchTo], waitMs },
  );
}

export function routerHosts(page: Page): Promise<RouterHostSnapshot[]> {
  return page.evaluate(() => [...(window.openSwarm!.expertJobs!.state().router?.hosts ?? [])]);
}

/** Every input answered: one prediction per image, each a class index. */
export function expectAllAnswered(job: ClassifySnapshot, images: number): void {
  expect(job.error).toBeNull();
  expect(job.phase).toBe("done");
  expect(job.rows).toBe(images);
  expect(job.rowsDone).toBe(images);
  expect(job.predictions).toHaveLength(images);
  for (const p of job.predictions!) expect(p >= 0 && p < 10 && Number.isInteger(p)).toBe(true);
}

/** The single-process moe-int8 graph on the same inputs, in the requester tab: 0 rows may differ. */
export async function expectSameAsWholeGraph(page: Page, job: ClassifySnapshot, images: number) {
  const whole = await page.evaluate(() => window.openSwarm!.expertJobs!.wholeGraph());
  expect(whole.rows).toBe(images);
  expect(whole.mismatches).toBe(0);
  expect(whole.predictions).toEqual(job.predictions);
  expect(job.accuracy).toBe(whole.accuracy);
}
