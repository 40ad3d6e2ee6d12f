import type { CsrMatrix } from "../sparse/csr.ts";
import { JobError } from "../protocol/job-errors.ts";
import { Coordinator } from "./coordinator.ts";
import type { DistributedOptions, DistributedResult } from "./coordinator-types.ts";
import { messageBytes } from "../protocol/distributed.ts";
import type { FromWorker, HaloPart, ToWorker } from "../protocol/distributed.ts";
import { ITERATION_KINDS, TrafficMeter } from "./traffic.ts";
import type { TrafficCount, TrafficKind } from "./traffic.ts";
import { createBlockWorker } from "./worker.ts";
import type { BlockWorker } from "./worker.ts";

export interface InProcessOptions extends DistributedOptions {
  /** Simulated one-way latency of every hop, in ms (0: deliver on the next microtask). */
  latencyMs?: number;
  /** structuredClone every message, as a wire would copy it (default true). */
  cloneMessages?: boolean;
}

/** Fault injection for tests (named as such): workers that vanish mid-solve, or lie. */
export interface FaultPlan {
  /** Kill the worker holding `block` once `atIteration` updates are done; a spare worker takes the block. */
  kills?: readonly { block: number; atIteration: number }[];
  /**
   * A lying worker (test-only): its replies pass through `corrupt` before the coordinator sees them. Its
   * block's first holder lies; once the audit blames it, an honest spare takes the block.
   */
  liar?: { readonly block: number; readonly corrupt: (reply: FromWorker) => FromWorker };
}

export interface FailureRecord {
  block: number;
  /** "killed" by the fault plan, or "blamed" by the coordinator's audit. */
  cause: "killed" | "blamed";
  /** Iteration count when the worker vanished. */
  atIteration: number;
  /** Iteration of the checkpoint the solve restarted from. */
  rolledBackTo: number;
}

export interface InProcessRun {
  result: DistributedResult;
  traffic: Partial<Record<TrafficKind, TrafficCount>>;
  /** Halo + reduction traffic divided by the iterations (init, checkpoints, gather excluded). */
  perIteration: TrafficCount;
  failures: FailureRecord[];
  wallMs: number;
}

type Delivery =
  | { readonly kind: "worker"; readonly block: number; readonly gen: number; readonly message: ToWorker }
  | { readonly kind: "coordinator"; readonly block: number; readonly message: FromWorker };

/**
 * Runs Coordinator and K BlockWorkers in this thread, connected by an async FIFO queue that carries every
 * message through the zod schemas (workers and coordinator parse what they receive) and, by default,
 * through structuredClone. Halos go through the coordinator or peer to peer (options.haloRouting).
 */
export async function runDistributedInProcess(
  a: CsrMatrix,
  b: Float64Array,
  k: number,
  options: InProcessOptions,
  faults?: FaultPlan,
): Promise<InProcessRun> {
  const t0 = performance.now();
  const coordinator = new Coordinator(a, b, k, options);
  const meter = new TrafficMeter();
  const clone = options.cloneMessages === false ? <T>(m: T): T => m : <T>(m: T): T => structuredClone(m);
  // Read at every reply: the coordinator may fall back from peer to coordinator routing.
  const peer = (): boolean => coordinator.haloRouting === "peer";
  const workers = new Map<number, BlockWorker>();
  /** Bumped when a block changes hands: messages queued for the previous holder are lost with it. */
  const generation = new Map<number, number>();
  const spawn = (block: number): void => {
    const w = createBlockWorker();
    const data = coordinator.blockData(block);
    meter.init(data);
    const err = w.init(clone(data));
    if (err !== null)
      throw new JobError("invalid_state", `block ${block} refused its data: ${JSON.stringify(err)}`);
    workers.set(block, w);
    generation.set(block, (generation.get(block) ?? -1) + 1);
  };
  for (let j = 0; j < coordinator.blocks; j++) spawn(j);

  let queue: Delivery[] = [];
  const toWorkers = (outs: readonly { to: number; message: ToWorker }[]): void => {
    for (const o of outs) {
      meter.count(o.message);
      queue.push({ kind: "worker", block: o.to, gen: generation.get(o.to) ?? 0, message: o.message });
    }
  };
  const inbox = new Map<string, HaloPart[]>();
  const deliverPeerHalo = (msg: Extract<FromWorker, { type: "halo" }>): void => {
    const touched = new Set<number>([msg.block]);
    for (const part of msg.parts) {
      meter.add("halo", 16 + 8 * 4 + part.values.byteLength);
      const key = `${part.toBlock}:${part.epoch}:${part.seq}`;
      inbox.set(key, [...(inbox.get(key) ?? []), part]);
      touched.add(part.toBlock);
    }
    for (const dest of touched) {
      const key = `${dest}:${msg.epoch}:${msg.seq}`;
      const parts = inbox.get(key) ?? [];
      if (parts.length < (workers.get(dest)?.haloSources.length ?? Infinity)) continue;
      inbox.delete(key);
      const message: ToWorker = { v: msg.v, type: "halo", epoch: msg.epoch, seq: msg.seq, parts };
      queue.push({ kind: "worker", block: dest, gen: generation.get(dest) ?? 0, message });
    }
    if (msg.checkpoint !== undefined) {
      const rest: FromWorker = { ...msg, parts: [] };
      meter.add("checkpoint", messageBytes(rest));
      queue.push({ kind: "coordinator", block: msg.block, message: rest });
    }
  };

  const failures: FailureRecord[] = [];
  const pendingKills = [...(faults?.kills ?? [])];
  const maybeKill = (): void => {
    for (let i = pendingKills.length - 1; i >= 0; i--) {
      const kill = pendingKills[i]!;
      if (coordinator.iteration < kill.atIteration || coordinator.result !== null) continue;
      pendingKills.splice(i, 1);
      workers.delete(kill.block);
      // Whatever was in flight from the vanished worker is lost with it (messages to it: see generation).
      queue = queue.filter((d) => d.kind !== "coordinator" || d.block !== kill.block);
      failures.push({
        block: kill.block,
        cause: "killed",
        atIteration: coordinator.iteration,
        rolledBackTo: coordinator.checkpoint.iteration,
      });
      spawn(kill.block);
      toWorkers(coordinator.workerLost(kill.block));
    }
  };

  /** The audit caught a holder: an honest spare takes its block, everyone restarts from the checkpoint. */
  const replaceBlamed = (): void => {
    const blame = coordinator.takeBlame();
    if (blame === null) return;
    queue = queue.filter((d) => d.kind !== "coordinator" || d.block !== blame.block);
    failures.push({
      block: blame.block,
      cause: "blamed",
      atIteration: coordinator.iteration,
      rolledBackTo: coordinator.checkpoint.iteration,
    });
    spawn(blame.block);
    toWorkers(coordinator.workerLost(blame.block));
  };

  const deliver = (d: Delivery): void => {
    if (d.kind === "coordinator") {
      toWorkers(coordinator.onWorkerMessage(d.block, clone(d.message)));
      replaceBlamed();
      maybeKill();
      return;
    }
    const w = workers.get(d.block);
    if (w === undefined || d.gen !== generation.get(d.block)) return;
    const liar = faults?.liar;
    const honest = w.step(clone(d.message));
    const reply = liar?.block === d.block && d.gen === 0 ? liar.corrupt(honest) : honest;
    if (peer() && reply.type === "halo") return deliverPeerHalo(reply);
    meter.count(reply);
    queue.push({ kind: "coordinator", block: d.block, message: reply });
  };

  const latencyMs = options.latencyMs ?? 0;
  toWorkers(coordinator.start());
  while (queue.length > 0 && coordinator.result === null) {
    const batch = queue;
    queue = [];
    // One latency per batch: the messages of one phase travel in parallel.
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    else await Promise.resolve();
    for (const d of batch) deliver(d);
  }
  const result = coordinator.result;
  if (result === null)
    throw new JobError("invalid_state", "the distributed run stalled: no message left in flight");
  const traffic: Partial<Record<TrafficKind, TrafficCount>> = Object.fromEntries(meter.byKind);
  const it = meter.total(ITERATION_KINDS);
  const iters = Math.max(1, result.iterations);
  return {
    result,
    traffic,
    perIteration: { messages: it.messages / iters, bytes: it.bytes / iters },
    failures,
    wallMs: performance.now() - t0,
  };
}
