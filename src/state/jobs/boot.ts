import { BlobCache } from "../../core/base/blob-cache.ts";
import {
  type VisibilitySource,
  type VolunteerFault,
  VolunteerRuntime,
} from "../../core/jobs/volunteer/index.ts";
import { swarmJobLink } from "../../core/jobs/swarm-job-link.ts";
import { RequesterRuntime, swarmVolunteers, volunteerRecruiter } from "../../core/jobs/requester/index.ts";
import type { OpenSwarmDb } from "../../core/storage/db.ts";
import { JobRepository } from "../../core/storage/job-repository.ts";
import type { Swarm } from "../../core/net/swarm.ts";
import { createJobsStore, type JobsStore } from "./store.ts";
import { createVolunteerStore, type VolunteerStore } from "./volunteer-store.ts";
import { createWorkerUnitSolver } from "../../../workers/solver/unit-client.ts";
import { webWorkerBlockHost } from "../../../workers/distributed/client.ts";
import { watchBattery } from "./battery.ts";
import { browserNotifications, createFinishNotices } from "./finish-notices.ts";

/** localStorage, or null where the browser refuses it (private modes, sandboxed frames). */
function storageOf(win: Window): Storage | null {
  try {
    return win.localStorage;
  } catch {
    return null;
  }
}

/** How often the view's busy fraction is measured again while nothing else changes. */
const BUSY_REFRESH_MS = 2_000;

/**
 * Every tab is both a requester (for the jobs it submits) and a volunteer (for anyone's units, its own
 * included, through the job link's loopback). The stores exist at once; the runtimes attach when the swarm
 * has started and the persisted jobs are resumed.
 */
export interface BootedJobs {
  readonly jobs: JobsStore;
  readonly volunteer: VolunteerStore;
  /** Resolves once both runtimes run (rejects if the swarm did not start). */
  readonly ready: Promise<void>;
}

function documentVisibility(doc: Document): VisibilitySource {
  return {
    hidden: () => doc.visibilityState === "hidden",
    onChange(listener) {
      doc.addEventListener("visibilitychange", listener);
      return () => doc.removeEventListener("visibilitychange", listener);
    },
  };
}

export interface BootJobsOptions {
  /** TEST ONLY (test-mode.ts): creates the fault injected into this tab's volunteer runtime; none by default. */
  readonly fault?: (() => Promise<VolunteerFault | null>) | undefined;
}

export function bootJobs(
  win: Window,
  db: OpenSwarmDb,
  swarmReady: Promise<Swarm>,
  options: BootJobsOptions = {},
): BootedJobs {
  const jobs = createJobsStore({ notices: createFinishNotices(browserNotifications(win), storageOf(win)) });
  const volunteer = createVolunteerStore();
  const ready = swarmReady.then(async (swarm) => {
    const link = swarmJobLink(swarm);
    const cache = new BlobCache();
    const fault = (await options.fault?.()) ?? null;
    const volunteerRuntime = new VolunteerRuntime({
      link,
      cache,
      solver: createWorkerUnitSolver(),
      // Distributed-solve blocks compute in Web Workers, off this tab's main thread.
      blockHost: webWorkerBlockHost,
      fault,
      visibility: documentVisibility(win.document),
      webgpu: swarm.capabilities.webgpu !== null,
      onChange: (snapshot) => volunteer.update(snapshot),
    });
    volunteer.attach(volunteerRuntime);
    win.setInterval(() => volunteer.update(volunteerRuntime.snapshot()), BUSY_REFRESH_MS);
    void watchBattery(win.navigator, (discharging) => volunteerRuntime.setOnBattery(discharging)).then(
      (supported) => volunteer.setBatterySupported(supported),
    );
    const recruiter = volunteerRecruiter(swarm);
    let requester: RequesterRuntime | null = null;
    requester = await RequesterRuntime.start({
      link,
      repo: new JobRepository(db),
      cache,
      volunteers: () => {
        // The overlay: while a job runs, volunteers found by a directory query are wanted (and dialed).
        recruiter.update(requester?.jobs().some((job) => job.status === "running") ?? false);
        return swarmVolunteers(swarm, true);
      },
      onChange: () => jobs.refresh(),
      onError: (message) => jobs.setState({ lastError: message, lastErrorCode: null }),
    });
    jobs.attach(requester);
  });
  ready.catch((error: unknown) => jobs.fail(error));
  return { jobs, volunteer, ready };
}
