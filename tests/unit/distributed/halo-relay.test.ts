import { describe, expect, it } from "vitest";
import { Coordinator } from "../../../src/core/distributed/coordinator.ts";
import type { HaloPart } from "../../../src/core/protocol/distributed.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";

// Peer halo routing, pair by pair (issue 12.4): a holder without a link to a neighbour sends that part to
// the coordinator, which passes it on at once. What a holder asks it to relay is checked: a part must be
// its own block's, of this epoch and exchange, for a block that imports from it, with the right length.

/** poisson2d(10) in 3 row blocks: block 0 borders block 1 only, block 1 both others. */
function peerRouted(): Coordinator {
  const a = poisson2d(10);
  const c = new Coordinator(a, multiply(a, ones(a.cols)), 3, {
    method: "pcg",
    tol: 1e-8,
    maxIter: 100,
    haloRouting: "peer",
  });
  c.start();
  return c;
}

function part(c: Coordinator, from: number, to: number, override: Partial<HaloPart> = {}): HaloPart {
  const rows = c.partition.blocks[from]!.exports.find((e) => e.block === to)?.rows.length ?? 10;
  return { fromBlock: from, toBlock: to, epoch: 1, seq: 0, values: new Float64Array(rows), ...override };
}

const halo = (block: number, parts: HaloPart[]) => ({ v: 1, type: "halo", block, epoch: 1, seq: 0, parts });

describe("the coordinator relays the halo parts of pairs without a link", () => {
  it("passes each part on to its block at once, without waiting for the other blocks", () => {
    const c = peerRouted();
    const outs = c.onWorkerMessage(1, halo(1, [part(c, 1, 0), part(c, 1, 2)]));
    expect(outs.map((o) => [o.to, o.message.type])).toEqual([
      [0, "halo"],
      [2, "halo"],
    ]);
    expect(outs[0]!.message).toMatchObject({ epoch: 1, seq: 0, parts: [{ fromBlock: 1, toBlock: 0 }] });
    // Nothing to relay (its links are all open): nothing goes out.
    expect(c.onWorkerMessage(0, halo(0, []))).toEqual([]);
    expect(c.takeBlame()).toBeNull();
  });

  it.each([
    ["a block it does not border", (c: Coordinator) => part(c, 0, 2)],
    ["another sender's part", (c: Coordinator) => part(c, 1, 0)],
    ["a part of another exchange", (c: Coordinator) => part(c, 0, 1, { seq: 3 })],
    ["a part of the wrong length", (c: Coordinator) => part(c, 0, 1, { values: new Float64Array(3) })],
  ])("blames a holder that asks it to relay %s (relays nothing)", (_, bad) => {
    const c = peerRouted();
    expect(c.onWorkerMessage(0, halo(0, [part(c, 0, 1), bad(c)]))).toEqual([]);
    expect(c.takeBlame()?.block).toBe(0);
  });
});
