import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  JOB_MESSAGE_SHAPES,
  MAX_DETAIL_CHARS,
  MAX_METHOD_PATH,
  MAX_RHS_PER_UNIT,
  parseJobMessage,
  type UnitAssign,
  type UnitResultMessage,
} from "../../../src/core/protocol/jobs.ts";
import { MAX_SIGNED_BODY_CHARS } from "../../../src/core/protocol/peer.ts";

const SHA = "0123456789abcdef".repeat(4);
const ref = { sha256: SHA, byteLength: 4000 };

const assign: UnitAssign = {
  type: "unit-assign",
  jv: 1,
  unitId: "AbC123_-xyz/7",
  attempt: 2,
  deadlineMs: 1_700_000_000_000,
  heartbeatIntervalMs: 2000,
  task: {
    kind: "solve",
    matrix: { ...ref, rows: 494, cols: 494, nnz: 1666 },
    rhs: [ref],
    method: "cg",
    preconditioner: "ic0",
    tol: 1e-8,
    maxIter: 5000,
  },
};

function largestResult(): UnitResultMessage {
  return {
    type: "unit-result",
    jv: 1,
    unitId: "j".repeat(48) + "/999999",
    attempt: 1_000_000,
    backend: "webgpu",
    computeMs: Number.MAX_VALUE,
    solutions: Array.from({ length: MAX_RHS_PER_UNIT }, () => ({
      x: { sha256: SHA, byteLength: 2 ** 31 },
      converged: false,
      iterations: 10_000_000,
      relResidual: -Number.MAX_VALUE * -1,
      methodPath: Array.from({ length: MAX_METHOD_PATH }, () => "m".repeat(32)),
    })),
  };
}

describe("job messages", () => {
  it("parses every message kind", () => {
    const unit = { jv: 1, unitId: "job/0", attempt: 1 } as const;
    const messages = [
      assign,
      { type: "unit-heartbeat", ...unit },
      {
        type: "unit-progress",
        ...unit,
        rhsDone: 0,
        rhsTotal: 1,
        iteration: 40,
        relResidual: 3.2e-4,
        backend: "wasm",
      },
      largestResult(),
      { type: "unit-error", ...unit, code: "invalid_input", detail: "bad_column_index: row 3" },
      { type: "unit-cancel", ...unit, reason: "deadline-expired" },
    ];
    for (const m of messages)
      expect(parseJobMessage(JSON.parse(JSON.stringify(m)))).toEqual({ ok: true, message: m });
  });

  it("keeps the largest valid body below half the peer channel's body cap", () => {
    const text = JSON.stringify(largestResult());
    expect(parseJobMessage(JSON.parse(text)).ok).toBe(true);
    // Half: the signed-body header (to, atMs, nonce) and later fields must still fit.
    expect(text.length).toBeLessThan(MAX_SIGNED_BODY_CHARS / 2);
  });

  it("rejects wrong versions, unknown fields, oversized and out-of-range values", () => {
    const bad: unknown[] = [
      { ...assign, jv: 2 },
      { ...assign, extra: 1 },
      { ...assign, unitId: "no-slash" },
      { ...assign, unitId: "job/01" },
      { ...assign, attempt: 0 },
      { ...assign, heartbeatIntervalMs: 10 },
      { ...assign, task: { ...assign.task, method: "magic" } },
      { ...assign, task: { ...assign.task, tol: 0 } },
      { ...assign, task: { ...assign.task, rhs: [] } },
      { ...assign, task: { ...assign.task, rhs: Array.from({ length: MAX_RHS_PER_UNIT + 1 }, () => ref) } },
      { ...assign, task: { ...assign.task, matrix: { ...assign.task.matrix, sha256: "ABC" } } },
      { ...largestResult(), solutions: [...largestResult().solutions, largestResult().solutions[0]] },
      {
        type: "unit-error",
        jv: 1,
        unitId: "a/0",
        attempt: 1,
        code: "internal",
        detail: "x".repeat(MAX_DETAIL_CHARS + 1),
      },
      { type: "unit-cancel", jv: 1, unitId: "a/0", attempt: 1, reason: "because" },
      {
        type: "unit-progress",
        jv: 1,
        unitId: "a/0",
        attempt: 1,
        rhsDone: 0,
        rhsTotal: 1,
        iteration: 1,
        relResidual: -1,
        backend: "js",
      },
      null,
      "unit-heartbeat",
    ];
    const results = bad.map(parseJobMessage);
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(results[0]).toMatchObject({ ok: false, code: "bad_version" });
    expect(results[1]).toMatchObject({ ok: false, code: "invalid_fields" });
  });

  it("exposes shapes the integrator can merge with the signed-body header", () => {
    const header = { to: z.string().nullable(), atMs: z.number(), nonce: z.string() };
    for (const shape of Object.values(JOB_MESSAGE_SHAPES)) {
      const schema = z.strictObject({ ...header, ...shape });
      expect(schema.safeParse({ to: null, atMs: 1, nonce: "n" }).success).toBe(false);
    }
    const signedAssign = z.strictObject({ ...header, ...JOB_MESSAGE_SHAPES["unit-assign"] });
    expect(signedAssign.safeParse({ to: null, atMs: 1, nonce: "n", ...assign }).success).toBe(true);
  });
});
