import { BicgstabWorker } from "./bicgstab-worker.ts";
import { blockDataSchema, DISTRIBUTED_PROTOCOL_VERSION, toWorkerSchema } from "../protocol/distributed.ts";
import type { FromWorker } from "../protocol/distributed.ts";
import { PcgWorker } from "./pcg-worker.ts";
import type { WorkerBase } from "./worker-base.ts";

/**
 * What a volunteer runs for one block of a distributed solve. Transport-agnostic: it takes and returns
 * plain messages; both entry points validate their input with the zod schemas (so a runtime may hand them
 * whatever arrived on the wire) and answer bad input with an `error` message, never a throw.
 */
export interface BlockWorker {
  /** Takes ownership of a block; returns an error message, or null when ready for `restart`. */
  init(blockData: unknown): FromWorker | null;
  step(message: unknown): FromWorker;
  /** The block held, or −1 before init. */
  readonly block: number;
  /** Blocks whose halo parts this block needs per exchange (for peer-to-peer halo routing). */
  readonly haloSources: readonly number[];
}

export function createBlockWorker(): BlockWorker {
  let impl: WorkerBase | null = null;
  let sources: readonly number[] = [];
  const fail = (code: "not_initialised" | "bad_message" | "preconditioner", message: string): FromWorker => ({
    v: DISTRIBUTED_PROTOCOL_VERSION,
    type: "error",
    block: impl?.block ?? -1,
    code,
    message: message.slice(0, 512),
  });
  return {
    get block() {
      return impl?.block ?? -1;
    },
    get haloSources() {
      return sources;
    },
    init(blockData) {
      const parsed = blockDataSchema.safeParse(blockData);
      if (!parsed.success)
        return fail("bad_message", `block data: ${parsed.error.issues[0]?.message ?? "invalid"}`);
      const d = parsed.data;
      try {
        impl = d.method === "pcg" ? new PcgWorker(d) : new BicgstabWorker(d);
      } catch (e) {
        return fail("preconditioner", e instanceof Error ? e.message : String(e));
      }
      sources = [...new Set(d.haloOwners)];
      return null;
    },
    step(message) {
      if (impl === null) return fail("not_initialised", "step before init");
      const parsed = toWorkerSchema.safeParse(message);
      if (!parsed.success) return fail("bad_message", parsed.error.issues[0]?.message ?? "invalid message");
      return impl.step(parsed.data);
    },
  };
}
