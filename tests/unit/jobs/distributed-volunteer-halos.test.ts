import { describe, expect, it } from "vitest";
import { Coordinator } from "../../../src/core/distributed/index.ts";
import { DistributedVolunteer } from "../../../src/core/jobs/distributed/volunteer.ts";
import type { JobLink } from "../../../src/core/jobs/job-link.ts";
import type { DistEnvelope } from "../../../src/core/protocol/distributed-frame.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { until } from "./runtime-helpers.ts";

// The volunteer's side of peer-to-peer halos, driven message by message. The link is a test-only stub
// (no mesh): it records what the volunteer sends and lets the test deliver frames in a chosen order.

const SELF = `os${"b".repeat(32)}`;
const REQUESTER = `os${"1".repeat(32)}`;
const NEIGHBOUR = `os${"a".repeat(32)}`;

function stubLink(linked: ReadonlySet<string> = new Set([NEIGHBOUR])) {
  const sent: { to: string; env: DistEnvelope }[] = [];
  const wanted = new Map<string, Set<string>>();
  let deliver: (from: string, env: DistEnvelope) => void = () => undefined;
  const link: JobLink = {
    selfId: SELF,
    sendBody: () => Promise.resolve(),
    sendBlob: () => Promise.resolve(),
    onBody: () => () => undefined,
    onBlob: () => () => undefined,
    sendDist: (to, env) => {
      sent.push({ to, env });
      return Promise.resolve();
    },
    onDist: (l) => {
      deliver = l;
      return () => undefined;
    },
    onPeerClosed: () => () => undefined,
    connectedPeerIds: () => [SELF, ...linked],
    isLinked: (peerId) => peerId === SELF || linked.has(peerId),
    want: (peerId, holder) => wanted.set(holder, new Set([...(wanted.get(holder) ?? []), peerId])),
    release: (holder, peerId) => {
      if (peerId === undefined) wanted.delete(holder);
      else wanted.get(holder)?.delete(peerId);
    },
    close: () => undefined,
  };
  const wantedPeers = () => [...wanted.values()].flatMap((set) => [...set]);
  return { link, sent, wantedPeers, deliver: (from: string, env: DistEnvelope) => deliver(from, env) };
}

describe("a block holder's peer-to-peer halos", () => {
  it("keeps a neighbour's halo that arrives before its own block data, and uses it", async () => {
    const a = poisson2d(10);
    const coordinator = new Coordinator(a, multiply(a, ones(a.cols)), 2, {
      method: "pcg",
      tol: 1e-8,
      maxIter: 100,
      haloRouting: "peer",
    });
    const data = coordinator.blockData(1);
    const { link, sent, deliver } = stubLink();
    const volunteer = new DistributedVolunteer(link);
    const unit = { unitId: "job1/1", attempt: 1 };
    // Forced order: the neighbour restarted first, so its seq-0 halo comes before our init.
    const fromNeighbour = {
      fromBlock: 0,
      toBlock: 1,
      epoch: 1,
      seq: 0,
      values: new Float64Array(data.haloOwners.length),
    };
    deliver(NEIGHBOUR, { kind: "halo", ...unit, message: fromNeighbour });
    deliver(REQUESTER, { kind: "init", ...unit, message: { heartbeatIntervalMs: 1_000, data } });
    deliver(REQUESTER, {
      kind: "peers",
      ...unit,
      message: {
        v: 1,
        type: "halo-peers",
        epoch: 1,
        routing: "peer",
        holders: [
          { block: 0, peerId: NEIGHBOUR, unitId: "job1/0", attempt: 1 },
          { block: 1, peerId: SELF, ...unit },
        ],
      },
    });
    const [restart] = coordinator.start().filter((o) => o.to === 1);
    deliver(REQUESTER, { kind: "to", ...unit, message: restart!.message });
    // Our seq-0 halo goes to the neighbour; its part, kept from before our init, completes exchange 0, so
    // the block computes r and its first u and sends the seq-1 halo (PCG's next exchange).
    const seqsToNeighbour = () =>
      sent
        .filter((x) => x.to === NEIGHBOUR)
        .map((x) => [x.env.kind, x.env.unitId, (x.env.message as { seq: number }).seq]);
    await until(() => seqsToNeighbour().length === 2);
    expect(seqsToNeighbour()).toEqual([
      ["halo", "job1/0", 0],
      ["halo", "job1/0", 1],
    ]);
    // The neighbour's seq-1 part: the block goes on to its reduction, the only thing the requester gets.
    deliver(NEIGHBOUR, { kind: "halo", ...unit, message: { ...fromNeighbour, seq: 1 } });
    const toRequester = () =>
      sent.filter((x) => x.to === REQUESTER).map((x) => (x.env.message as { type: string }).type);
    await until(() => toRequester().length > 0);
    expect(toRequester()).toEqual(["dots"]);
    expect(volunteer.snapshot().rejected).toEqual({});
    volunteer.close();
  });

  it("without a link to its neighbour: wants one, sends that pair's parts to the requester, takes relayed ones", async () => {
    const a = poisson2d(10);
    const coordinator = new Coordinator(a, multiply(a, ones(a.cols)), 2, {
      method: "pcg",
      tol: 1e-8,
      maxIter: 100,
      haloRouting: "peer",
    });
    const data = coordinator.blockData(1);
    // Forced: the neighbour is never linked (a cap reached, a dial failed), whatever the overlay does.
    const { link, sent, wantedPeers, deliver } = stubLink(new Set());
    const volunteer = new DistributedVolunteer(link);
    const unit = { unitId: "job1/1", attempt: 1 };
    deliver(REQUESTER, { kind: "init", ...unit, message: { heartbeatIntervalMs: 1_000, data } });
    deliver(REQUESTER, {
      kind: "peers",
      ...unit,
      message: {
        v: 1,
        type: "halo-peers",
        epoch: 1,
        routing: "peer",
        holders: [
          { block: 0, peerId: NEIGHBOUR, unitId: "job1/0", attempt: 1 },
          { block: 1, peerId: SELF, ...unit },
        ],
      },
    });
    const outs = coordinator.start();
    deliver(REQUESTER, { kind: "to", ...unit, message: outs.find((o) => o.to === 1)!.message });
    const halosToRequester = () =>
      sent
        .filter((x) => x.to === REQUESTER)
        .map((x) => x.env.message as { type: string; seq: number; parts: { toBlock: number }[] });
    await until(() => halosToRequester().length === 1);
    expect(wantedPeers()).toEqual([NEIGHBOUR]); // it asked the overlay for the link
    expect(sent.filter((x) => x.to === NEIGHBOUR)).toEqual([]);
    const [seq0] = halosToRequester();
    expect(seq0!.type).toBe("halo");
    expect(seq0!.parts.map((p) => p.toBlock)).toEqual([0]);
    // The coordinator passes that part on to block 0 at once (no barrier in a peer-routed epoch).
    const relayed = coordinator.onWorkerMessage(1, seq0);
    expect(relayed.map((o) => [o.to, o.message.type])).toEqual([[0, "halo"]]);
    // Block 0's part, relayed the same way, completes our exchange 0: the seq-1 halo follows.
    const fromNeighbour = {
      fromBlock: 0,
      toBlock: 1,
      epoch: 1,
      seq: 0,
      values: new Float64Array(data.haloOwners.length),
    };
    const relayedToUs = { v: 1, type: "halo", epoch: 1, seq: 0, parts: [fromNeighbour] };
    deliver(REQUESTER, { kind: "to", ...unit, message: relayedToUs });
    await until(() => halosToRequester().length === 2);
    expect(halosToRequester()[1]!.seq).toBe(1);
    // A second copy of a part already used (a resend after a link closed) is dropped, and counted.
    deliver(REQUESTER, { kind: "to", ...unit, message: relayedToUs });
    await until(() => Object.keys(volunteer.snapshot().rejected).length > 0);
    expect(volunteer.snapshot().rejected).toEqual({ relayed_stale: 1 });
    expect(volunteer.snapshot().halos).toEqual({ direct: 0, relayed: 2 });
    volunteer.close();
    expect(wantedPeers()).toEqual([]); // the block let go of its links
  });
});
