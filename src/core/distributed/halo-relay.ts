import { DISTRIBUTED_PROTOCOL_VERSION, MAX_BLOCKS } from "../protocol/distributed.ts";
import type { FromWorker, HaloPart } from "../protocol/distributed.ts";
import type { Outgoing } from "./coordinator-types.ts";
import type { RowPartition } from "./partition.ts";

/**
 * Peer halo routing's fallback, pair by pair (issue 12.4). A holder with no open link to a neighbour
 * (still dialing, a link cap reached, the dial failed, the neighbour gone: jobs/distributed/halo-links.ts)
 * sends that neighbour's part with its reply, and the coordinator passes it on at once: a peer-routed
 * exchange has no barrier here, so a relayed part costs one extra hop, never a wait for the other blocks.
 * Only a part of the sender's own block (the block comes from the authenticated placement), of the
 * current epoch and the message's exchange, addressed to a block that imports from it with the right
 * length is passed on; anything else is the sender's own doing, and the coordinator blames it (audit.ts).
 * Each relayed part is counted, and each distinct pair that needed a relay.
 */
export class HaloRelay {
  #parts = 0;
  readonly #pairs = new Set<number>();

  constructor(private readonly partition: RowPartition) {}

  /** Parts relayed in all. */
  get parts(): number {
    return this.#parts;
  }

  /** Distinct (from, to) block pairs that had at least one part relayed. */
  get pairs(): number {
    return this.#pairs.size;
  }

  /** The parts of `msg` to pass on, one message per receiving block; a string says why `msg` is bad. */
  relay(msg: Extract<FromWorker, { type: "halo" }>, epoch: number): Outgoing[] | string {
    const byBlock = new Map<number, HaloPart[]>();
    const exports = this.partition.blocks[msg.block]?.exports ?? [];
    for (const part of msg.parts) {
      if (part.fromBlock !== msg.block || part.epoch !== epoch || part.seq !== msg.seq)
        return "a relayed halo part claims another sender, epoch or seq";
      const rows = exports.find((e) => e.block === part.toBlock)?.rows.length;
      if (rows !== part.values.length)
        return `a relayed halo part for block ${part.toBlock} does not match what that block imports`;
      byBlock.set(part.toBlock, [...(byBlock.get(part.toBlock) ?? []), part]);
    }
    const out: Outgoing[] = [];
    for (const [to, parts] of byBlock) {
      this.#parts += parts.length;
      this.#pairs.add(msg.block * MAX_BLOCKS + to);
      out.push({
        to,
        message: { v: DISTRIBUTED_PROTOCOL_VERSION, type: "halo", epoch, seq: msg.seq, parts },
      });
    }
    return out;
  }
}
