import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { seededRandom } from "./helpers.ts";
import {
  CAPS,
  cleanup,
  freshDbName,
  openRepo,
  startPeers,
  startRequester,
  until,
  type TestPeer,
} from "./runtime-helpers.ts";

/**
 * Small blobs travel inside the signed message they belong to (net/signed-blobs.ts): a unit's right-hand
 * side with its assignment, its solution with its result. Every unit is placed on the one remote volunteer
 * (the requester's own volunteer is closed and not offered), so what crosses the link is forced.
 */
afterEach(cleanup);

function job(grid: number, count: number): SubmitInput {
  const a = poisson2d(grid);
  const random = seededRandom(grid);
  const rhs = Array.from({ length: count }, () =>
    Float64Array.from({ length: a.rows }, () => random() - 0.5),
  );
  return { name: `poisson2d-${grid}`, kind: "multi-rhs", a, rhs, method: "cg", tol: 1e-9, maxIter: 5_000 };
}

/** Messages `peer` accepted, by type ("blob" is a blob message of its own, not an attached one). */
function messagesIn(peer: TestPeer): Map<string, number> {
  const counts = new Map<string, number>();
  peer.mesh.on("message", (e) => counts.set(e.message.type, (counts.get(e.message.type) ?? 0) + 1));
  return counts;
}

async function runOnRemote(input: SubmitInput) {
  const [requester, volunteer] = await startPeers(2);
  requester!.volunteer!.close();
  requester!.volunteer = null;
  const atRequester = messagesIn(requester!);
  const atVolunteer = messagesIn(volunteer!);
  const rt = await startRequester(requester!, openRepo(freshDbName()), {
    volunteers: () => [{ peerId: volunteer!.mesh.peerId, capabilities: CAPS }],
  });
  const id = await rt.submit(input);
  await until(() => rt.scheduler.job(id)?.status !== "running", 20_000);
  expect(rt.scheduler.job(id)!.status).toBe("done");
  const units = rt.units(id);
  for (const u of units) expect(u.result!.volunteerId).toBe(volunteer!.mesh.peerId);
  return { rt, id, units, requester: requester!, volunteer: volunteer!, atRequester, atVolunteer };
}

describe("blobs attached to job messages", () => {
  it("sends small inputs with their assignment and solutions with their result: no blob message either way", async () => {
    const input = job(12, 4);
    const { rt, id, units, volunteer, atRequester, atVolunteer } = await runOnRemote(input);
    expect(atVolunteer.get("blob") ?? 0).toBe(0);
    expect(atRequester.get("blob") ?? 0).toBe(0);
    // Yet every input reached the volunteer (once each) and every solution the requester, verified.
    const spec = rt.scheduler.job(id)!.spec;
    for (const ref of [spec.matrix, ...spec.rhs]) expect(volunteer.blobsIn.get(ref.sha256)).toBe(1);
    for (const u of units) expect(rt.unitResidual(u.id)!).toBeLessThanOrEqual(1e-9);
    expect(await rt.solutions(id)).toHaveLength(4);
  });

  it("still sends an input over the attachment cap (256 KiB) as a blob of its own, once", async () => {
    const input = job(70, 2); // the matrix encodes to about 300 KB; each right-hand side to 39 KB
    const { rt, id, volunteer, atVolunteer } = await runOnRemote(input);
    const spec = rt.scheduler.job(id)!.spec;
    expect(spec.matrix.byteLength).toBeGreaterThan(256 * 1024);
    expect(atVolunteer.get("blob")).toBe(1);
    expect(volunteer.blobsIn.get(spec.matrix.sha256)).toBe(1);
    for (const ref of spec.rhs) expect(volunteer.blobsIn.get(ref.sha256)).toBe(1);
  });
});
