import { z } from "zod";
import {
  blockDataSchema,
  createBlockWorker,
  toWorkerSchema,
  type BlockWorker,
  type FromWorker,
} from "../../distributed/index.ts";
import type { JobBodyEvent, JobLink } from "../job-link.ts";
import {
  JOB_PROTOCOL_VERSION,
  MAX_HEARTBEAT_INTERVAL_MS,
  MIN_HEARTBEAT_INTERVAL_MS,
} from "../../protocol/jobs.ts";
import type { DistEnvelope } from "../../protocol/distributed-frame.ts";

/**
 * The volunteer's side of a distributed solve: holds the row blocks requesters placed here (one
 * BlockWorker each, keyed by unit id), answers every coordinator message with the worker's reply, and
 * heartbeats each held block with a signed unit-heartbeat so the requester's scheduler keeps its lease.
 * Every input is parsed by the distributed zod schemas before it reaches a worker; a block whose data
 * fails validation is never initialised (the requester sees an `error` reply and no heartbeats).
 *
 * The block worker runs on this thread (the tab's main thread in a browser): one step is a sparse
 * mat-vec of the block plus a triangular solve, cheap for moderate blocks. A solver-worker host is future
 * work.
 */

export const distInitSchema = z.strictObject({
  heartbeatIntervalMs: z.number().int().min(MIN_HEARTBEAT_INTERVAL_MS).max(MAX_HEARTBEAT_INTERVAL_MS),
  data: z.unknown(),
});

interface HeldBlock {
  readonly requesterId: string;
  readonly unitId: string;
  readonly attempt: number;
  readonly worker: BlockWorker;
  readonly heartbeat: ReturnType<typeof setInterval>;
  steps: number;
  /** Time spent in this block's steps. */
  busyMs: number;
  /** Coordinator iteration of the latest `scalars` message (for the Contribute view). */
  iteration: number;
}

export interface DistributedVolunteerSnapshot {
  readonly blocks: readonly { unitId: string; requesterId: string; steps: number; iteration: number }[];
}

/** A block let go (finished, cancelled, moved, or its requester left): for the volunteer's unit log. */
export interface BlockEnd {
  readonly requesterId: string;
  readonly unitId: string;
  readonly attempt: number;
  /** Time spent computing its steps. */
  readonly ms: number;
}

export class DistributedVolunteer {
  readonly #link: JobLink;
  readonly #held = new Map<string, HeldBlock>();
  readonly #offs: (() => void)[] = [];
  readonly #isPaused: () => boolean;
  readonly #onChange: () => void;
  readonly #nowMs: () => number;
  readonly #corruptReply: ((reply: FromWorker) => FromWorker) | null;
  readonly #onBusy: (startMs: number, endMs: number) => void;
  readonly #onBlockEnd: (block: BlockEnd) => void;
  #lastChangeMs = 0;

  /**
   * `nowMs` is the volunteer runtime's injected clock (it paces the change notifications). `corruptReply`
   * is TEST ONLY (volunteer-fault.ts): a lying block holder. `onBusy` gets each step's time span (the
   * volunteer's busy meter), `onBlockEnd` each block as it is let go (its unit log).
   */
  constructor(
    link: JobLink,
    options: {
      isPaused?: () => boolean;
      onChange?: () => void;
      nowMs?: () => number;
      corruptReply?: (reply: FromWorker) => FromWorker;
      onBusy?: (startMs: number, endMs: number) => void;
      onBlockEnd?: (block: BlockEnd) => void;
    } = {},
  ) {
    this.#link = link;
    this.#corruptReply = options.corruptReply ?? null;
    this.#nowMs = options.nowMs ?? (() => Date.now());
    this.#isPaused = options.isPaused ?? (() => false);
    this.#onChange = options.onChange ?? (() => undefined);
    this.#onBusy = options.onBusy ?? (() => undefined);
    this.#onBlockEnd = options.onBlockEnd ?? (() => undefined);
    this.#offs.push(
      link.onDist((from, env) => this.#onDist(from, env)),
      link.onBody((event) => this.#onBody(event)),
      link.onPeerClosed((peerId) => {
        for (const [key, h] of [...this.#held]) if (h.requesterId === peerId) this.#drop(key);
      }),
    );
  }

  snapshot(): DistributedVolunteerSnapshot {
    return {
      blocks: [...this.#held.values()].map((h) => ({
        unitId: h.unitId,
        requesterId: h.requesterId,
        steps: h.steps,
        iteration: h.iteration,
      })),
    };
  }

  /** Drops every held block; with a reason (pause), tells each requester so it moves the block at once. */
  dropAll(reason?: string): void {
    for (const [key, h] of [...this.#held]) {
      if (reason !== undefined) {
        this.#link
          .sendBody(h.requesterId, {
            type: "unit-error",
            jv: JOB_PROTOCOL_VERSION,
            unitId: h.unitId,
            attempt: h.attempt,
            code: "cancelled",
            detail: reason,
          })
          .catch(() => undefined);
      }
      this.#drop(key);
    }
  }

  close(): void {
    this.dropAll();
    for (const off of this.#offs.splice(0)) off();
  }

  #drop(key: string): void {
    const h = this.#held.get(key);
    if (h === undefined) return;
    clearInterval(h.heartbeat);
    this.#held.delete(key);
    const { requesterId, unitId, attempt, busyMs } = h;
    this.#onBlockEnd({ requesterId, unitId, attempt, ms: busyMs });
    this.#onChange();
  }

  #onBody(event: JobBodyEvent): void {
    const { body, from } = event;
    if (body.type !== "unit-cancel") return;
    const key = `${from}|${body.unitId}`;
    if (this.#held.get(key)?.attempt === body.attempt) this.#drop(key);
  }

  #onDist(from: string, env: DistEnvelope): void {
    const key = `${from}|${env.unitId}`;
    if (env.kind === "init") return this.#init(from, key, env);
    if (env.kind !== "to") return; // "from" messages are for the requester runtime
    const h = this.#held.get(key);
    if (h === undefined || h.attempt !== env.attempt) return; // stale: an older placement of this block
    const parsed = toWorkerSchema.safeParse(env.message);
    if (!parsed.success) return; // never reaches the worker
    const stepStart = this.#nowMs();
    const honest = h.worker.step(parsed.data);
    const stepEnd = this.#nowMs();
    h.busyMs += stepEnd - stepStart;
    this.#onBusy(stepStart, stepEnd);
    const reply = this.#corruptReply === null ? honest : this.#corruptReply(honest);
    h.steps++;
    if (parsed.data.type === "scalars") h.iteration = parsed.data.iteration;
    const now = this.#nowMs();
    if (now - this.#lastChangeMs >= 250) {
      this.#lastChangeMs = now;
      this.#onChange();
    }
    this.#send(from, env.unitId, env.attempt, reply);
  }

  #init(from: string, key: string, env: DistEnvelope): void {
    if (this.#isPaused()) {
      // Declined like any unit offered to a paused volunteer: the requester places the block elsewhere.
      this.#link
        .sendBody(from, {
          type: "unit-error",
          jv: JOB_PROTOCOL_VERSION,
          unitId: env.unitId,
          attempt: env.attempt,
          code: "declined",
          detail: "the volunteer is paused",
        })
        .catch(() => undefined);
      return;
    }
    const old = this.#held.get(key);
    if (old !== undefined && old.attempt >= env.attempt) return;
    this.#drop(key);
    const init = distInitSchema.safeParse(env.message);
    const data = init.success ? blockDataSchema.safeParse(init.data.data) : null;
    if (!init.success || data === null || !data.success) {
      const message = (init.success ? data?.error?.message : init.error.message) ?? "bad init";
      this.#send(from, env.unitId, env.attempt, {
        v: 1,
        type: "error",
        block: -1,
        code: "bad_message",
        message: `block data failed validation: ${message}`.slice(0, 500),
      });
      return;
    }
    const worker = createBlockWorker();
    const error = worker.init(data.data);
    if (error !== null) {
      this.#send(from, env.unitId, env.attempt, error);
      return;
    }
    const beat = (): void => {
      this.#link
        .sendBody(from, {
          type: "unit-heartbeat",
          jv: JOB_PROTOCOL_VERSION,
          unitId: env.unitId,
          attempt: env.attempt,
        })
        .catch(() => undefined);
    };
    beat();
    const heartbeat = setInterval(beat, init.data.heartbeatIntervalMs);
    this.#held.set(key, {
      requesterId: from,
      unitId: env.unitId,
      attempt: env.attempt,
      worker,
      heartbeat,
      steps: 0,
      busyMs: 0,
      iteration: 0,
    });
    this.#onChange();
  }

  #send(to: string, unitId: string, attempt: number, message: unknown): void {
    this.#link.sendDist(to, { kind: "from", unitId, attempt, message }).catch(() => undefined);
  }
}
