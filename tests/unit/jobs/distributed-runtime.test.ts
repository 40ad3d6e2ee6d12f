import { afterEach, describe, expect, it } from "vitest";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { cleanup, freshDbName, openRepo, startPeers, startRequester, until } from "./runtime-helpers.ts";
import { distributedPoisson, volunteersOf } from "./distributed-helpers.ts";

afterEach(cleanup);

const distributed = (blocks: number): SubmitInput => distributedPoisson(40, blocks);

/** ‖b − A x‖/‖b‖ computed here, independently of the runtime. */
function residual(input: SubmitInput, x: Float64Array): number {
  const { a } = input;
  const b = input.rhs[0]!;
  let rr = 0;
  let bb = 0;
  for (let r = 0; r < a.rows; r++) {
    let s = 0;
    for (let k = a.rowPtr[r]!; k < a.rowPtr[r + 1]!; k++) s += a.values[k]! * x[a.colIdx[k]!]!;
    rr += (b[r]! - s) ** 2;
    bb += b[r]! ** 2;
  }
  return Math.sqrt(rr / bb);
}

describe("distributed solve over the mesh", () => {
  it("solves poisson2d(40) in 2 blocks on 2 remote volunteers, certified", async () => {
    const peers = await startPeers(3);
    const [req, v1, v2] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    // Only the two remote peers volunteer: every halo and reduction crosses the (in-memory) mesh.
    const rt = await startRequester(req, openRepo(freshDbName()), {
      volunteers: () => volunteersOf([v1, v2]),
    });
    const input = distributed(2);
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const units = rt.units(id);
    expect(units).toHaveLength(2);
    expect(units.every((u) => u.status === "done")).toBe(true);
    // One block on each volunteer.
    expect(new Set(units.map((u) => u.result!.volunteerId))).toEqual(
      new Set([v1.mesh.peerId, v2.mesh.peerId]),
    );
    const stats = rt.distributedStats(id)!;
    expect(stats.relResidual).toBeLessThanOrEqual(1e-8);
    expect(stats.failovers).toBe(0);
    const [line] = rt.residualSeries(id);
    expect(line!.points.length).toBeGreaterThan(10);
    // The line ends at the certificate of x, at the solve's last iteration.
    expect(line!.certified).toBe(true);
    expect(line!.points.at(-1)).toEqual({ iteration: stats.iterations, residual: stats.relResidual });
    const [x] = await rt.solutions(id);
    expect(residual(input, x!)).toBeLessThanOrEqual(1e-8);
    // The volunteers ran their blocks: neither solved the whole system.
    expect(v1.solver.calls + v2.solver.calls).toBe(0);
  }, 60_000);

  it("moves a block when its volunteer disappears mid-solve and still certifies x", async () => {
    const peers = await startPeers(4);
    const [req, v1, v2, v3] = peers as [
      (typeof peers)[0],
      (typeof peers)[0],
      (typeof peers)[0],
      (typeof peers)[0],
    ];
    const present = new Set([v1, v2]);
    const rt = await startRequester(req, openRepo(freshDbName()), {
      volunteers: () => volunteersOf([...present]),
    });
    const input = distributed(2);
    const id = await rt.submit(input);
    // Wait until the solve is under way, then the volunteer holding block 1 vanishes; v3 joins.
    await until(() => (rt.residualSeries(id)[0]?.points.length ?? 0) >= 25, 30_000);
    const victimId = rt.units(id).find((u) => u.index === 1)!.lease!.volunteerId;
    const victim = peers.find((p) => p.mesh.peerId === victimId)!;
    present.delete(victim);
    present.add(v3);
    victim.volunteer?.close();
    victim.link.close();
    victim.mesh.close();
    await until(() => rt.scheduler.job(id)?.status !== "running", 60_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    const stats = rt.distributedStats(id)!;
    expect(stats.failovers).toBeGreaterThanOrEqual(1);
    expect(stats.relResidual).toBeLessThanOrEqual(1e-8);
    const moved = rt.units(id).find((u) => u.index === 1)!;
    expect(moved.attempt).toBeGreaterThan(1);
    expect(moved.result!.volunteerId).not.toBe(victimId);
    const [x] = await rt.solutions(id);
    expect(residual(input, x!)).toBeLessThanOrEqual(1e-8);
  }, 90_000);
});

describe("distributed solve with fewer volunteers than blocks", () => {
  it("one tab alone holds all 3 blocks through its loopback and completes", async () => {
    const [solo] = await startPeers(1);
    const rt = await startRequester(solo!, openRepo(freshDbName()));
    const input = distributed(3);
    const id = await rt.submit(input);
    await until(() => rt.scheduler.job(id)?.status !== "running", 30_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    expect(rt.units(id).every((u) => u.result!.volunteerId === solo!.mesh.peerId)).toBe(true);
    const [x] = await rt.solutions(id);
    expect(residual(input, x!)).toBeLessThanOrEqual(1e-8);
  }, 60_000);
});

describe("distributed solve and a pausing volunteer", () => {
  it("a volunteer that pauses gives its block back and the solve completes elsewhere", async () => {
    const peers = await startPeers(4);
    const [req, v1, v2, v3] = peers as [
      (typeof peers)[0],
      (typeof peers)[0],
      (typeof peers)[0],
      (typeof peers)[0],
    ];
    const rt = await startRequester(req, openRepo(freshDbName()), {
      volunteers: () => volunteersOf([v1, v2, v3]),
    });
    const id = await rt.submit(distributed(2));
    await until(() => (rt.residualSeries(id)[0]?.points.length ?? 0) >= 25, 30_000);
    const holderId = rt.units(id).find((u) => u.index === 0)!.lease!.volunteerId;
    const holder = peers.find((p) => p.mesh.peerId === holderId)!;
    holder.volunteer!.pause();
    expect(holder.volunteer!.distributed.snapshot().blocks).toHaveLength(0);
    await until(() => rt.scheduler.job(id)?.status !== "running", 60_000);
    expect(rt.scheduler.job(id)!.status).toBe("done");
    expect(rt.distributedStats(id)!.failovers).toBeGreaterThanOrEqual(1);
    expect(rt.distributedStats(id)!.relResidual).toBeLessThanOrEqual(1e-8);
    const moved = rt.units(id).find((u) => u.index === 0)!;
    expect(moved.result!.volunteerId).not.toBe(holderId);
    expect(moved.history.some((h) => h.outcome === "declined")).toBe(true);
  }, 90_000);
});
