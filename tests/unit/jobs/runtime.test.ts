import { afterEach, describe, expect, it } from "vitest";
import { FaultInjection } from "../../../src/core/jobs/volunteer/fault-injection.ts";
import type { JobBodyEvent } from "../../../src/core/jobs/job-link.ts";
import { JOB_PROTOCOL_VERSION } from "../../../src/core/protocol/jobs.ts";
import { blobRefOf, encodeCsr, encodeVector } from "../../../src/core/jobs/payload.ts";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import type { UnitSolver } from "../../../src/core/jobs/volunteer/unit-solver.ts";
import { VolunteerRuntime, type VisibilitySource } from "../../../src/core/jobs/volunteer/index.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { seededRandom } from "./helpers.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";

afterEach(cleanup);

function multiRhs(count: number, seed = 1): SubmitInput {
  const a = poisson2d(12);
  const random = seededRandom(seed);
  const rhs = Array.from({ length: count }, () =>
    Float64Array.from({ length: a.rows }, () => random() - 0.5),
  );
  return { name: "poisson2d-12", kind: "multi-rhs", a, rhs, method: "cg", tol: 1e-9, maxIter: 2_000 };
}

describe("requester and volunteer runtimes over a mesh", () => {
  it("completes a multi-rhs job across three peers, sending the matrix once per volunteer", async () => {
    const peers = await startPeers(3);
    const rt = await startRequester(peers[0]!, openRepo(freshDbName()));
    const input = multiRhs(9);
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running");
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const units = rt.units(id);
    expect(units.every((u) => u.status === "done")).toBe(true);
    for (const u of units) expect(rt.unitResidual(u.id)!).toBeLessThanOrEqual(1e-9);
    // Work spread to the remote volunteers, and each got A at most once.
    const matrixSha = rt.scheduler.job(id)!.spec.matrix.sha256;
    const remoteWorkers = new Set(units.map((u) => u.result!.volunteerId));
    expect(remoteWorkers.size).toBeGreaterThanOrEqual(2);
    for (const p of peers.slice(1)) expect(p.blobsIn.get(matrixSha) ?? 0).toBeLessThanOrEqual(1);
    // The downloaded solutions are the certified ones, in right-hand-side order.
    const xs = await rt.solutions(id);
    expect(xs).toHaveLength(9);
    const a = input.a;
    for (const [i, x] of xs.entries()) {
      const b = input.rhs[i]!;
      let rr = 0;
      let bb = 0;
      for (let r = 0; r < a.rows; r++) {
        let s = 0;
        for (let k = a.rowPtr[r]!; k < a.rowPtr[r + 1]!; k++) s += a.values[k]! * x[a.colIdx[k]!]!;
        rr += (b[r]! - s) ** 2;
        bb += b[r]! ** 2;
      }
      expect(Math.sqrt(rr / bb)).toBeLessThanOrEqual(1e-9);
    }
  });

  it("one peer alone completes a job through the loopback", async () => {
    const [solo] = await startPeers(1);
    const rt = await startRequester(solo!, openRepo(freshDbName()));
    const id = await rt.submit(multiRhs(3));
    await until(() => rt.scheduler.job(id)?.status !== "running");
    expect(rt.scheduler.job(id)!.status).toBe("done");
    expect(solo!.solver.calls).toBe(3);
    // The chart: one line per unit, each ending at the requester's certificate (not the last report).
    const lines = rt.residualSeries(id);
    expect(lines.map((l) => l.label).sort()).toEqual(["unit 0", "unit 1", "unit 2"]);
    for (const line of lines) {
      const end = line.points.at(-1)!;
      expect(line.certified).toBe(true);
      expect(end.residual).toBe(rt.unitResidual(`${id}/${line.label.slice(5)}`));
      expect(end.residual).toBeLessThanOrEqual(1e-9);
      expect(end.iteration).toBeGreaterThan(0);
    }
  });

  it("rejects every perturbed result, bans the faulty volunteer and completes from the others", async () => {
    const peers = await startPeers(3, {
      fault: (i) => (i === 2 ? FaultInjection.create("perturb", true, seededRandom(7)) : null),
    });
    const liar = peers[2]!.mesh.peerId;
    const rt = await startRequester(peers[0]!, openRepo(freshDbName()));
    const id = await rt.submit(multiRhs(16));
    await until(() => rt.scheduler.job(id)?.status !== "running", 20_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const units = rt.units(id);
    expect(units.every((u) => u.result!.volunteerId !== liar)).toBe(true);
    const rep = rt.scheduler.reputation.get(liar);
    expect(rep.totalValid).toBe(0);
    expect(rep.totalInvalid).toBeGreaterThanOrEqual(3);
    expect(rt.scheduler.volunteers().find((v) => v.peerId === liar)!.banned).toBe(true);
  });

  it("resumes a job from IndexedDB after the requester restarts", async () => {
    const peers = await startPeers(2);
    const name = freshDbName();
    // First life: no volunteer reachable (and its own volunteer paused), so nothing runs.
    peers[0]!.volunteer!.pause();
    const first = await startRequester(peers[0]!, openRepo(name), { volunteers: () => [] });
    const id = await first.submit(multiRhs(4));
    await first.flush();
    first.close();
    peers[0]!.volunteer!.resume();
    const second = await startRequester(peers[0]!, openRepo(name));
    expect(second.scheduler.job(id)?.status).toBe("running");
    await until(() => second.scheduler.job(id)?.status !== "running");
    expect(second.scheduler.job(id)!.status).toBe("done");
    expect(second.nameOf(id)).toBe("poisson2d-12");
  });
});

describe("volunteer runtime", () => {
  it("answers invalid_input and never runs a unit whose matrix fails validation", async () => {
    const [requester, vol] = await startPeers(2);
    const good = encodeCsr(poisson2d(3));
    const corrupt = good.slice();
    new Int32Array(corrupt.buffer, 24, 10)[3] = 999; // a row pointer out of range
    const matrixRef = await blobRefOf(corrupt);
    const b = encodeVector(new Float64Array(9).fill(1));
    const bRef = await blobRefOf(b);
    const errors: JobBodyEvent[] = [];
    requester!.link.onBody((e) => {
      if (e.body.type === "unit-error") errors.push(e);
    });
    await requester!.link.sendBody(vol!.mesh.peerId, {
      type: "unit-assign",
      jv: JOB_PROTOCOL_VERSION,
      unitId: "job1/0",
      attempt: 1,
      deadlineMs: Date.now() + 60_000,
      heartbeatIntervalMs: 1_000,
      task: {
        kind: "solve",
        matrix: { ...matrixRef, rows: 9, cols: 9, nnz: 33 },
        rhs: [bRef],
        method: "cg",
        tol: 1e-8,
        maxIter: 100,
      },
    });
    await requester!.link.sendBlob(vol!.mesh.peerId, corrupt);
    await requester!.link.sendBlob(vol!.mesh.peerId, b);
    await until(() => errors.length > 0);
    expect(errors[0]!.body).toMatchObject({ type: "unit-error", unitId: "job1/0", code: "invalid_input" });
    expect(errors[0]!.from).toBe(vol!.mesh.peerId);
    expect(vol!.solver.calls).toBe(0);
  });

  it("declines work while paused and gives back held units at once", async () => {
    const peers = await startPeers(2);
    peers[1]!.volunteer!.pause();
    const rt = await startRequester(peers[0]!, openRepo(freshDbName()));
    peers[0]!.volunteer!.pause();
    const id = await rt.submit(multiRhs(2));
    await until(() => rt.units(id).some((u) => u.history.some((h) => h.outcome === "declined")));
    expect(rt.scheduler.job(id)!.status).toBe("running");
    expect(peers[1]!.solver.calls + peers[0]!.solver.calls).toBe(0);
    peers[1]!.volunteer!.resume();
    await until(() => rt.scheduler.job(id)?.status !== "running", 20_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    expect(rt.units(id).every((u) => u.result!.volunteerId === peers[1]!.mesh.peerId)).toBe(true);
  });

  it("FaultInjection refuses to exist outside test mode", () => {
    expect(() => FaultInjection.create("perturb", false)).toThrow(/test-only/);
    expect(() => FaultInjection.create("lie", true)).toThrow(/unknown fault mode/);
  });
});

describe("volunteer throttles", () => {
  it("idles after each unit so that busy / (busy + idle) is about the CPU share", async () => {
    const [peer] = await startPeers(1);
    const spans: { start: number; end: number }[] = [];
    const inner = peer!.solver;
    const timed: UnitSolver = {
      solve(a, b, options, call) {
        const span = { start: performance.now(), end: 0 };
        spans.push(span);
        const outcome = inner.solve(a, b, options, call);
        void outcome.then(() => (span.end = performance.now()));
        return outcome;
      },
      dispose: () => undefined,
    };
    peer!.volunteer!.close();
    peer!.volunteer = new VolunteerRuntime({ link: peer!.link, cache: peer!.cache, solver: timed });
    peer!.volunteer.setCpuShare(0.25);
    const rt = await startRequester(peer!, openRepo(freshDbName()));
    const input = { ...multiRhs(3), a: poisson2d(40) };
    const random = seededRandom(3);
    const id = await rt.submit({
      ...input,
      rhs: input.rhs.map(() => Float64Array.from({ length: 1600 }, () => random() - 0.5)),
    });
    await until(() => rt.scheduler.job(id)?.status !== "running", 20_000);
    expect(spans).toHaveLength(3);
    for (let i = 1; i < spans.length; i++) {
      const busy = spans[i - 1]!.end - spans[i - 1]!.start;
      const idle = spans[i]!.start - spans[i - 1]!.end;
      // share 0.25: idle ≈ 3 × busy (busy as the runtime sees it also includes sending the result).
      expect(idle).toBeGreaterThanOrEqual(2.5 * busy);
    }
  });

  it("pauses while the tab is hidden when asked to, and resumes when it is visible again", async () => {
    const [peer] = await startPeers(1);
    let hidden = false;
    const listeners = new Set<() => void>();
    const visibility: VisibilitySource = {
      hidden: () => hidden,
      onChange: (l) => (listeners.add(l), () => listeners.delete(l)),
    };
    const setHidden = (value: boolean) => {
      hidden = value;
      for (const l of listeners) l();
    };
    peer!.volunteer!.close();
    const vol = new VolunteerRuntime({
      link: peer!.link,
      cache: peer!.cache,
      solver: peer!.solver,
      visibility,
    });
    peer!.volunteer = vol;
    setHidden(true);
    expect(vol.snapshot().status).toBe("idle"); // the option is off
    vol.setPauseWhenHidden(true);
    expect(vol.snapshot().status).toBe("paused");
    const rt = await startRequester(peer!, openRepo(freshDbName()));
    const id = await rt.submit(multiRhs(1));
    await until(() => rt.units(id).some((u) => u.history.some((h) => h.outcome === "declined")));
    expect(peer!.solver.calls).toBe(0);
    setHidden(false);
    expect(vol.snapshot().status).not.toBe("paused");
    await until(() => rt.scheduler.job(id)?.status !== "running", 20_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
  });
});
