import type { SubmitInput } from "../../../src/core/jobs/requester/runtime.ts";
import type { VolunteerInfo } from "../../../src/core/jobs/model.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { CAPS, type TestPeer } from "./runtime-helpers.ts";

/** The setup the distributed runtime tests share: the system they solve and who volunteers for it. */

/** Tolerance of those solves (the residual each test checks against). */
export const DIST_TOL = 1e-8;

/** A distributed CG solve of poisson2d(n) with b = A·1, in `blocks` row blocks. */
export function distributedPoisson(n: number, blocks: number): SubmitInput {
  const a = poisson2d(n);
  return {
    name: `poisson2d-${n}`,
    kind: "distributed-solve",
    a,
    rhs: [multiply(a, ones(a.cols))],
    method: "cg",
    tol: DIST_TOL,
    maxIter: 5_000,
    blocks,
  };
}

/** What a requester's `volunteers` option returns for these peers (the test forces who volunteers). */
export function volunteersOf(peers: readonly TestPeer[]): VolunteerInfo[] {
  return peers.map((p) => ({ peerId: p.mesh.peerId, capabilities: CAPS }));
}
