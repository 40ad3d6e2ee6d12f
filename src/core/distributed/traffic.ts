import { messageBytes } from "../protocol/distributed.ts";
import type { BlockData, FromWorker, ToWorker } from "../protocol/distributed.ts";

export type TrafficKind =
  "init" | "restart" | "halo" | "checkpoint" | "dots" | "scalars" | "gather" | "x" | "error";

export interface TrafficCount {
  messages: number;
  bytes: number;
}

/** Messages and payload bytes by kind; "halo" counts a hop (worker → coordinator and on counts twice). */
export class TrafficMeter {
  readonly byKind = new Map<TrafficKind, TrafficCount>();

  add(kind: TrafficKind, bytes: number, messages = 1): void {
    const c = this.byKind.get(kind) ?? { messages: 0, bytes: 0 };
    c.messages += messages;
    c.bytes += bytes;
    this.byKind.set(kind, c);
  }

  init(d: BlockData): void {
    this.add("init", messageBytes(d));
  }

  /** Charges a message; a halo with a checkpoint is split into its halo and checkpoint parts. */
  count(msg: ToWorker | FromWorker): void {
    if (msg.type === "halo" && "checkpoint" in msg && msg.checkpoint !== undefined) {
      const cp = messageBytes(msg.checkpoint);
      this.add("halo", messageBytes(msg) - cp);
      this.add("checkpoint", cp, 0);
      return;
    }
    this.add(msg.type, messageBytes(msg));
  }

  total(kinds?: readonly TrafficKind[]): TrafficCount {
    let messages = 0;
    let bytes = 0;
    for (const [k, c] of this.byKind) {
      if (kinds !== undefined && !kinds.includes(k)) continue;
      messages += c.messages;
      bytes += c.bytes;
    }
    return { messages, bytes };
  }
}

/** The traffic of the iterations themselves (what scales with the iteration count). */
export const ITERATION_KINDS: readonly TrafficKind[] = ["halo", "dots", "scalars"];
