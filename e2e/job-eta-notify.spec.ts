import { expect, test } from "@playwright/test";
import { jobsReady, jobSnapshot, submitJob, waitForJobEnd, waitForLinks } from "./support/jobs.ts";
import { closePeers, openPeer, openPeers, type TestPeer } from "./support/peers.ts";

// Two things a requester sees while its job runs and when it ends (issue 11), on real tabs:
//  - the running job's ETA: shown with a sane number of seconds while units remain, gone once it is done;
//  - the opt-in notification when a job it submitted finishes: none while the box is unticked, one naming
//    the job once ticked (the permission granted in the browser context; notifications recorded by a test
//    recorder that wraps window.Notification before the app loads).

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

const job = (name: string, count: number) =>
  ({
    name,
    kind: "multi-rhs",
    matrix: { kind: "generated", name: "poisson2d-40" },
    rhs: { kind: "random", count, seed: 5 },
    method: "cg",
    tol: 1e-8,
    maxIter: 10_000,
  }) as const;

test("a running job shows its ETA in seconds; a finished one shows none", async ({ browser }) => {
  test.setTimeout(60_000);
  peers = await openPeers(browser, 2);
  const [requester, vol] = peers as [TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(requester.page, [vol.peerId]);
  // Force the situation "some units done, some left, the job running": the requester's own volunteer is
  // paused, and `vol` pauses itself the moment its first unit's result is sent (the pause, inside the same
  // store update, gives back every other unit it holds, uncharged). Nothing else can compute.
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
  await vol.page.evaluate(() => {
    const volunteer = window.openSwarm!.volunteer;
    const off = volunteer.subscribe((s) => {
      if (s.unitsDone < 1) return;
      off();
      s.actions.pause();
    });
  });
  const jobId = await submitJob(requester.page, job("eta", 4));
  const page = requester.page;
  await page.evaluate(() => (location.hash = "#/dashboard"));
  await page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`).click();
  const eta = page.getByTestId("job-eta");
  await expect(eta).toHaveAttribute("data-remaining-ms", /^\d/, { timeout: 30_000 });

  const { job: running } = await jobSnapshot(page, jobId);
  expect(running!.status).toBe("running");
  expect(running!.unitsDone).toBe(1);
  expect(running!.unitsTotal).toBeGreaterThan(1);
  // Sane: the pace so far (one unit in the time since submission) applied to the units left, so more than
  // zero and less than the units left times the time the test has run.
  const remainingMs = Number(await eta.getAttribute("data-remaining-ms"));
  expect(remainingMs).toBeGreaterThan(0);
  expect(remainingMs).toBeLessThan((running!.unitsTotal - 1) * 60_000);
  await expect(eta).toContainText(/about \d+(\.\d)? (ms|s) left|about \d+ min \d+ s left/);

  // Let the volunteer finish: the job ends done and the ETA goes.
  await vol.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.resume());
  const end = await waitForJobEnd(page, jobId, 40_000);
  expect(end.job!.status).toBe("done");
  await expect(page.getByTestId("job-detail")).toHaveAttribute("data-status", "done");
  await expect(eta).toHaveCount(0);
});

/** TEST RECORDER (not the product's): wraps window.Notification before the app loads, keeping each
 *  notification's title and body in window.__notifications, then shows it through the real one. */
function recordNotifications(): void {
  const Real = window.Notification;
  const shown: { title: string; body: string }[] = [];
  (window as unknown as { __notifications: typeof shown }).__notifications = shown;
  function Recording(title: string, options?: NotificationOptions): Notification {
    shown.push({ title, body: options?.body ?? "" });
    return new Real(title, options);
  }
  Object.defineProperty(Recording, "permission", { get: () => Real.permission });
  Recording.requestPermission = () => Real.requestPermission();
  window.Notification = Recording as unknown as typeof Notification;
}

const notifications = (peer: TestPeer) =>
  peer.page.evaluate(
    () => (window as unknown as { __notifications: { title: string; body: string }[] }).__notifications,
  );

test("a finished job notifies only when the box is ticked, naming the job", async ({ browser }) => {
  test.setTimeout(60_000);
  const tab = await openPeer(browser, "/?test=1#/dashboard", {
    permissions: ["notifications"],
    initScript: recordNotifications,
  });
  peers = [tab];
  await jobsReady(tab.page);
  const box = tab.page.getByTestId("notify-finish").getByRole("checkbox");
  await expect(box).not.toBeChecked();

  // Unticked: the job (computed by this tab's own volunteer) finishes, and nothing is shown.
  const quiet = await submitJob(tab.page, job("quiet-job", 1));
  expect((await waitForJobEnd(tab.page, quiet, 30_000)).job!.status).toBe("done");
  expect(await notifications(tab)).toEqual([]);

  // Ticked (the permission is granted already, so no prompt): the next job's end is announced by name.
  await box.check();
  await expect(box).toBeChecked();
  const loud = await submitJob(tab.page, job("loud-job", 2));
  const end = await waitForJobEnd(tab.page, loud, 30_000);
  expect(end.job!.status).toBe("done");
  await expect.poll(() => notifications(tab)).toHaveLength(1);
  const [shown] = await notifications(tab);
  expect(shown!.title).toContain("loud-job");
  expect(shown!.body).toBe(`done: ${end.job!.unitsDone} of ${end.job!.unitsTotal} units verified`);
  expect(JSON.stringify(await notifications(tab))).not.toContain("quiet-job");
});
