import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { seededRandom } from "../src/core/base/seeded-random.ts";
import { relativeResidual } from "../src/core/solver/certificate.ts";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { parseMatrixMarketVector } from "../src/core/sparse/matrix-market.ts";
import { multiply, ones } from "../src/core/sparse/ops.ts";
import { randomRhs } from "../src/core/sparse/problem.ts";
import { storedCheckpointIteration, storedJobs, storedUnits } from "./support/job-store-file.ts";
import { startNodePeer, startNodeVolunteer, type NodePeer } from "./support/node-peer.ts";

// `open-swarm submit --resume` (issue 12): Node peers only, no browser. The real server (Playwright's
// webServer), real Node volunteers over WebRTC on loopback, and the requester as a child process that is
// SIGKILLed mid-job and started again with --resume on the same store and identity.

const TOL = 1e-8;

interface SubmitReport {
  status: string;
  units: number;
  units_done: number;
  units_verified_before: number;
  volunteers: string[];
  worst_rel_residual: number;
  distributed?: { iterations: number; resumed_from: number };
}

let nodes: NodePeer[] = [];
let work = "";
test.beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), "open-swarm-resume-"));
});
test.afterEach(() => {
  for (const n of nodes) {
    n.process.kill("SIGCONT"); // a volunteer frozen by a test must be able to die
    n.kill();
  }
  nodes = [];
  rmSync(work, { recursive: true, force: true });
});

function reportOf(peer: NodePeer): SubmitReport {
  return JSON.parse(peer.lines.find((l) => l.startsWith("{"))!) as SubmitReport;
}

async function jobIdOf(peer: NodePeer): Promise<string> {
  return /^job (\S+) /.exec(await peer.waitForLine(/^job \S+ /))![1]!;
}

test("submit --resume after a SIGKILL completes the job, and units verified before are not recomputed", async ({
  baseURL,
}) => {
  test.setTimeout(90_000); // ~15 s idle; the margin is for a loaded CI machine
  const store = path.join(work, "store");
  const identity = path.join(work, "requester.json");
  const seed = 4242;
  const rhsCount = 8;
  // Forced, not timed: the only volunteer online leaves after 3 units, so the job is certain to stop
  // part-way with those verified, whatever the machine's speed.
  const first = await startNodeVolunteer(baseURL!, ["--max-units", "3"]);
  nodes.push(first);
  const args = ["--server", baseURL!, "--store", store, "--json", "--tol", String(TOL)];
  const submit = startNodePeer(
    ["submit", "poisson2d-120", "--random-rhs", String(rhsCount), "--seed", String(seed), ...args],
    {},
    { identity },
  );
  nodes.push(submit);
  const jobId = await jobIdOf(submit);
  expect(await first.exited).toBe(0);
  const sent = Number(
    /after (\d+) units/.exec(await first.waitForLine(/left the swarm after \d+ units/))![1],
  );
  expect(sent).toBeGreaterThanOrEqual(1);
  // Every result the volunteer sent is verified and in the store (written behind): then the kill.
  const done = (): number => storedUnits(store, jobId).filter((u) => u.status === "done").length;
  await expect.poll(done, { timeout: 20_000 }).toBe(sent);
  submit.process.kill("SIGKILL");
  expect(await submit.exited).toBeNull();
  const before = storedUnits(store, jobId);
  expect(before).toHaveLength(rhsCount);
  const verifiedBefore = before.filter((u) => u.status === "done");
  expect(verifiedBefore).toHaveLength(sent);
  expect(verifiedBefore.every((u) => u.result?.volunteerId === first.peerId)).toBe(true);

  // Two fresh volunteers; the same requester (identity and store) resumes.
  const fresh = await Promise.all([startNodeVolunteer(baseURL!), startNodeVolunteer(baseURL!)]);
  nodes.push(...fresh);
  const out = path.join(work, "x.mtx");
  const resumed = startNodePeer(["submit", "--resume", jobId, ...args, "--out", out], {}, { identity });
  nodes.push(resumed);
  expect(await resumed.exited).toBe(0);
  const report = reportOf(resumed);
  expect(report.status).toBe("done");
  expect(report.units_done).toBe(rhsCount);
  expect(report.units_verified_before).toBe(sent);

  // Not recomputed: each unit verified before keeps its attempt and result (from the first volunteer);
  // every other unit was computed by the fresh volunteers.
  const after = storedUnits(store, jobId);
  for (const unit of after) {
    const earlier = verifiedBefore.find((u) => u.id === unit.id);
    expect(unit.status).toBe("done");
    if (earlier !== undefined) {
      expect(unit.attempt).toBe(earlier.attempt);
      expect(unit.result).toEqual(earlier.result);
    } else {
      expect(fresh.map((v) => v.peerId)).toContain(unit.result?.volunteerId);
    }
  }

  // x correct, checked here: b regenerated from the seed, ‖b − A x‖/‖b‖ for every right-hand side.
  const a = poisson2d(120);
  const rng = seededRandom(seed);
  for (let k = 0; k < rhsCount; k++) {
    const b = randomRhs(a.rows, rng);
    const x = parseMatrixMarketVector(readFileSync(`${out}.${k}`, "utf8"));
    expect(relativeResidual(a, x, b)).toBeLessThanOrEqual(TOL);
  }
});

test("submit --distribute 2, SIGKILLed, resumes from its persisted checkpoint (fewer iterations than a restart)", async ({
  baseURL,
}) => {
  test.setTimeout(90_000); // ~15 s idle; the margin is for a loaded CI machine
  const holders = await Promise.all([startNodeVolunteer(baseURL!), startNodeVolunteer(baseURL!)]);
  nodes.push(...holders);
  const args = ["poisson2d-100", "--distribute", "2", "--server", baseURL!, "--json", "--tol", String(TOL)];

  // The cold solve: how many iterations a restart from zero takes (read from this run, not assumed).
  const cold = startNodePeer(["submit", ...args, "--store", path.join(work, "cold")]);
  nodes.push(cold);
  expect(await cold.exited).toBe(0);
  const coldReport = reportOf(cold);
  expect(coldReport.status).toBe("done");
  expect(coldReport.volunteers.sort()).toEqual(holders.map((h) => h.peerId).sort());
  const coldIterations = coldReport.distributed!.iterations;
  expect(coldReport.distributed!.resumed_from).toBe(0);

  const store = path.join(work, "store");
  const identity = path.join(work, "requester.json");
  const submit = startNodePeer(["submit", ...args, "--store", store], {}, { identity });
  nodes.push(submit);
  const jobId = await jobIdOf(submit);
  const halfway = Math.floor(coldIterations / 2);
  await expect
    .poll(() => storedCheckpointIteration(store, jobId), { timeout: 40_000, intervals: [20] })
    .toBeGreaterThanOrEqual(halfway);
  // Forced: both block holders are frozen first, so the solve cannot advance (every iteration needs both)
  // and the requester is killed mid-solve whatever the machine's speed; then they go on.
  for (const h of holders) h.process.kill("SIGSTOP");
  submit.process.kill("SIGKILL");
  expect(await submit.exited).toBeNull();
  for (const h of holders) h.process.kill("SIGCONT");
  expect(storedJobs(store)[jobId]?.status).toBe("running");
  const checkpoint = storedCheckpointIteration(store, jobId);
  expect(checkpoint).toBeGreaterThanOrEqual(halfway);

  const out = path.join(work, "x.mtx");
  const resumed = startNodePeer(
    ["submit", "--resume", jobId, ...args.slice(1), "--store", store, "--out", out],
    {},
    { identity },
  );
  nodes.push(resumed);
  expect(await resumed.exited).toBe(0);
  const report = reportOf(resumed);
  expect(report.status).toBe("done");
  expect(report.distributed!.resumed_from).toBe(checkpoint);
  const more = report.distributed!.iterations - checkpoint;
  console.log(
    `CLI distributed resume: cold ${coldIterations} iterations; killed with checkpoint ${checkpoint}, ` +
      `${more} more after --resume`,
  );
  expect(more).toBeLessThan(coldIterations);

  // x correct, checked here: b = A·1 (no --rhs), ‖b − A x‖/‖b‖.
  const a = poisson2d(100);
  const x = parseMatrixMarketVector(readFileSync(out, "utf8"));
  expect(relativeResidual(a, x, multiply(a, ones(a.cols)))).toBeLessThanOrEqual(TOL);
});

test("submit --distribute K with fewer than K volunteers online fails clearly in --volunteer-wait, keeping no job", async ({
  baseURL,
}) => {
  test.setTimeout(90_000); // ~15 s idle; the margin is for a loaded CI machine
  // One volunteer online, three wanted: the requester can never link three.
  const one = await startNodeVolunteer(baseURL!);
  nodes.push(one);
  const store = path.join(work, "store");
  const args = "submit poisson2d-50 --distribute 3 --volunteer-wait 3 --json".split(" ");
  const submit = startNodePeer([...args, "--server", baseURL!, "--store", store]);
  nodes.push(submit);
  expect(await submit.exited).toBe(4);
  const error = (
    JSON.parse(submit.lines.find((l) => l.startsWith("{"))!) as { error: { code: string; message: string } }
  ).error;
  expect(error.code).toBe("too_few_volunteers");
  expect(error.message).toMatch(/over 3 volunteers, but [0-2] found in 3 s/);
  // Nothing was submitted: no job in the store to resume or to clean up.
  expect(submit.lines.some((l) => l.startsWith("job "))).toBe(false);
  expect(storedJobs(store)).toEqual({});
});
