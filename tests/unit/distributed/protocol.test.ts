import { describe, expect, it } from "vitest";
import { Coordinator } from "../../../src/core/distributed/coordinator.ts";
import {
  blockDataSchema,
  fromWorkerSchema,
  MAX_SCALARS,
  toWorkerSchema,
} from "../../../src/core/protocol/distributed.ts";
import { createBlockWorker } from "../../../src/core/distributed/worker.ts";
import { isJobError } from "../../../src/core/protocol/job-errors.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { rhsOfOnes } from "./helpers.ts";

const scalars = { v: 1, type: "scalars", epoch: 1, iteration: 1, values: [0.5, 0.1], checkpoint: false };
const halo = {
  v: 1,
  type: "halo",
  epoch: 1,
  seq: 1,
  parts: [{ fromBlock: 0, toBlock: 1, epoch: 1, seq: 1, values: new Float64Array([1, 2]) }],
};

describe("message schemas reject malformed messages", () => {
  it("accepts well-formed messages", () => {
    expect(toWorkerSchema.safeParse(scalars).success).toBe(true);
    expect(toWorkerSchema.safeParse(halo).success).toBe(true);
    expect(toWorkerSchema.safeParse({ v: 1, type: "gather", epoch: 3 }).success).toBe(true);
  });

  it.each([
    ["another protocol version", { ...scalars, v: 2 }],
    ["an unknown type", { ...scalars, type: "solve" }],
    ["an extra key", { ...scalars, extra: 1 }],
    ["a NaN scalar", { ...scalars, values: [Number.NaN, 1] }],
    ["too many scalars", { ...scalars, values: new Array<number>(MAX_SCALARS + 1).fill(1) }],
    ["a negative epoch", { ...scalars, epoch: -1 }],
    ["halo values as a plain array", { ...halo, parts: [{ ...halo.parts[0], values: [1, 2] }] }],
    [
      "an infinite halo value",
      { ...halo, parts: [{ ...halo.parts[0], values: new Float64Array([Infinity]) }] },
    ],
    ["a block index out of range", { ...halo, parts: [{ ...halo.parts[0], toBlock: 100_000 }] }],
    ["null", null],
  ])("to a worker: %s", (_why, msg) => {
    expect(toWorkerSchema.safeParse(msg).success).toBe(false);
  });

  it.each([
    ["an infinite partial", { v: 1, type: "dots", block: 0, epoch: 1, phase: 0, partials: [1, Infinity, 2] }],
    ["no partials", { v: 1, type: "dots", block: 0, epoch: 1, phase: 0, partials: [] }],
    [
      "an over-long error text",
      { v: 1, type: "error", block: 0, code: "bad_message", message: "x".repeat(600) },
    ],
    ["an unknown error code", { v: 1, type: "error", block: 0, code: "oops", message: "" }],
    ["x as Int32Array", { v: 1, type: "x", block: 0, epoch: 1, x: new Int32Array(3), preconditioner: "ic0" }],
  ])("from a worker: %s", (_why, msg) => {
    expect(fromWorkerSchema.safeParse(msg).success).toBe(false);
  });

  it("rejects block data whose CSR does not hold together", () => {
    const c = new Coordinator(poisson2d(6), new Float64Array(36).fill(1), 2, {
      method: "pcg",
      tol: 1e-8,
      maxIter: 10,
    });
    const good = c.blockData(0);
    expect(blockDataSchema.safeParse(good).success).toBe(true);
    const badCol = { ...good, colIdx: good.colIdx.map((v, i) => (i === 3 ? 10_000 : v)) };
    expect(blockDataSchema.safeParse(badCol).success).toBe(false);
    expect(blockDataSchema.safeParse({ ...good, rowPtr: good.rowPtr.subarray(1) }).success).toBe(false);
    expect(blockDataSchema.safeParse({ ...good, haloOwners: good.haloOwners.map(() => 0) }).success).toBe(
      false,
    );
    expect(blockDataSchema.safeParse({ ...good, b: good.b.subarray(1) }).success).toBe(false);
  });
});

describe("BlockWorker answers bad input with a coded error, never a throw", () => {
  const c = new Coordinator(poisson2d(6), new Float64Array(36).fill(1), 2, {
    method: "pcg",
    tol: 1e-8,
    maxIter: 10,
  });

  it("step before init, garbage init, garbage step, out of order, unknown checkpoint", () => {
    const w = createBlockWorker();
    expect(w.step(scalars)).toMatchObject({ type: "error", code: "not_initialised" });
    expect(w.init({ hello: 1 })).toMatchObject({ type: "error", code: "bad_message" });
    expect(w.init(c.blockData(1))).toBeNull();
    expect(w.block).toBe(1);
    expect(w.haloSources).toEqual([0]);
    expect(w.step("garbage")).toMatchObject({ type: "error", code: "bad_message" });
    expect(w.step(scalars)).toMatchObject({ type: "error", code: "out_of_order" });
    expect(w.step({ v: 1, type: "restart", epoch: 1, fromCheckpoint: 40 })).toMatchObject({
      type: "error",
      code: "no_checkpoint",
    });
    const first = w.step({ v: 1, type: "restart", epoch: 1 });
    expect(first).toMatchObject({ type: "halo", block: 1, epoch: 1, seq: 0 });
    // A halo whose part has the wrong length is refused.
    const wrong = { ...halo, seq: 0, parts: [{ ...halo.parts[0], seq: 0, values: new Float64Array(1) }] };
    expect(w.step(wrong)).toMatchObject({ type: "error", code: "bad_message" });
    // A message of an older epoch is answered as stale (the coordinator ignores those).
    expect(w.step({ v: 1, type: "gather", epoch: 0 })).toMatchObject({
      type: "error",
      code: "stale",
      epoch: 0,
    });
  });
});

describe("Coordinator", () => {
  it("stops with worker-error and the certified checkpoint on a malformed or forged message", () => {
    const a = poisson2d(6);
    const b = rhsOfOnes(a);
    const c = new Coordinator(a, b, 2, { method: "pcg", tol: 1e-8, maxIter: 10 });
    c.start();
    const forged = {
      v: 1,
      type: "halo",
      block: 0,
      epoch: 1,
      seq: 0,
      parts: [{ ...halo.parts[0], fromBlock: 1, epoch: 1, seq: 0 }],
    };
    expect(c.onWorkerMessage(0, forged)).toEqual([]);
    expect(c.result?.reason).toBe("worker-error");
    expect(c.result?.detail).toMatch(/another sender/);
    expect(c.result?.relResidual).toBe(relativeResidual(a, new Float64Array(36), b));

    const d = new Coordinator(a, b, 2, { method: "pcg", tol: 1e-8, maxIter: 10 });
    d.start();
    d.onWorkerMessage(1, { v: 1, type: "dots", block: 1, epoch: 1, phase: 0, partials: ["1"] });
    expect(d.result).toMatchObject({ reason: "worker-error", converged: false });
  });

  it("ignores messages of an older epoch and from the wrong sender", () => {
    const a = poisson2d(6);
    const c = new Coordinator(a, rhsOfOnes(a), 2, { method: "pcg", tol: 1e-8, maxIter: 10 });
    c.start();
    expect(
      c.onWorkerMessage(0, { v: 1, type: "dots", block: 0, epoch: 0, phase: 0, partials: [1, 1, 1] }),
    ).toEqual([]);
    expect(
      c.onWorkerMessage(1, { v: 1, type: "dots", block: 0, epoch: 1, phase: 0, partials: [1, 1, 1] }),
    ).toEqual([]);
    expect(c.result).toBeNull();
  });

  it("refuses impossible jobs with coded errors", () => {
    const a = poisson2d(4);
    const opts = { method: "pcg", tol: 1e-8, maxIter: 10 } as const;
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isJobError(e) ? e.code : "not a JobError";
      }
      return undefined;
    };
    expect(codeOf(() => new Coordinator(a, new Float64Array(3), 2, opts))).toBe("invalid_spec");
    expect(codeOf(() => new Coordinator(a, new Float64Array(16), 17, opts))).toBe("invalid_partition");
    expect(codeOf(() => new Coordinator(a, new Float64Array(16), 2, { ...opts, tol: 0 }))).toBe(
      "invalid_spec",
    );
  });
});
