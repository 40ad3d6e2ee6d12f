import { expect, test } from "@playwright/test";
import {
  jobSnapshot,
  jobsReady,
  submitJob,
  volunteerState,
  waitForJobEnd,
  waitForLinks,
} from "./support/jobs.ts";
import { closePeers, openPeers, type TestPeer } from "./support/peers.ts";

// The person at a volunteer tab stays in charge: Pause stops the unit being computed within a second (the
// solver worker's cancel flag, or terminating it), the unit goes back to the requester at once and is
// computed elsewhere; new units are declined while paused.

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("pause stops the running unit within 1 s and the requester reissues it", async ({ browser }) => {
  test.setTimeout(90_000);
  peers = await openPeers(browser, 2);
  const [requester, vol] = peers as [TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(requester.page, [vol.peerId]);
  // Only the other tab computes at first: the requester's own volunteer is paused.
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());

  // The pause must land while the unit runs: from the test process, a poll sees the first iteration a few
  // hundred ms late on a busy machine, and a solve that finished meanwhile is a different situation (its
  // result was sent before the pause). So the volunteer tab pauses itself, in its own store listener, at its
  // first progress report, and records how long its worker took to stop.
  await vol.page.evaluate(() => {
    const store = window.openSwarm!.volunteer;
    const probe: { iteration: number | null; stoppedAfterMs: number | null } = {
      iteration: null,
      stoppedAfterMs: null,
    };
    (window as unknown as { pauseProbe: typeof probe }).pauseProbe = probe;
    let pausedAt = 0;
    const unsubscribe = store.subscribe((state) => {
      if (probe.iteration === null && (state.current?.iteration ?? 0) > 0) {
        probe.iteration = state.current!.iteration;
        pausedAt = performance.now();
        queueMicrotask(() => store.getState().actions.pause());
      } else if (probe.iteration !== null && state.current === null) {
        // `current` clears when the solver's outcome is in, i.e. when the worker really stopped.
        probe.stoppedAfterMs = performance.now() - pausedAt;
        unsubscribe();
      }
    });
  });

  const jobId = await submitJob(requester.page, {
    name: "poisson2d-300, a few seconds of CG",
    kind: "solve",
    matrix: { kind: "generated", name: "poisson2d-300" },
    rhs: { kind: "random", count: 1 },
    method: "cg",
    tol: 1e-10,
    maxIter: 50_000,
  });
  const probe = async () =>
    vol.page.evaluate(
      () =>
        (window as unknown as { pauseProbe: { iteration: number | null; stoppedAfterMs: number | null } })
          .pauseProbe,
    );
  await expect
    .poll(async () => (await probe()).stoppedAfterMs, {
      timeout: 45_000,
      message: "the volunteer paused mid-unit",
    })
    .not.toBeNull();
  expect((await probe()).stoppedAfterMs!).toBeLessThan(1_000);
  expect((await volunteerState(vol.page)).status).toBe("paused");

  // The requester took the unit back (not charged) and the paused tab declines it; resuming the
  // requester's own volunteer completes the job.
  await expect
    .poll(async () =>
      requester.page.evaluate((id) => {
        const rt = window.openSwarm!.jobs.runtime();
        return (rt?.units(id) ?? []).flatMap((u) => u.history.map((h) => `${h.outcome}:${h.charged}`));
      }, jobId),
    )
    .toContain("declined:false");
  // The volunteer's own attempt ended as cancelled by its pause (not by a result it had sent already).
  const history = await requester.page.evaluate(
    (id) => (window.openSwarm!.jobs.runtime()?.units(id) ?? []).flatMap((u) => u.history),
    jobId,
  );
  expect(
    history.some(
      (h) => h.volunteerId === vol.peerId && h.outcome === "declined" && h.detail.startsWith("cancelled"),
    ),
    JSON.stringify(history),
  ).toBe(true);
  expect((await jobSnapshot(requester.page, jobId)).job!.status).toBe("running");
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.resume());
  const end = await waitForJobEnd(requester.page, jobId, 60_000);
  expect(end.job!.status).toBe("done");
  expect(end.units[0]!.volunteerId).toBe(requester.peerId);
  expect(end.units[0]!.relResidual!).toBeLessThanOrEqual(1e-10);
});
