import { describe, expect, it } from "vitest";
import {
  buildSubmission,
  jobKindFor,
  type JobFormValues,
} from "../../../src/app/components/jobs/job-submission.ts";

const BASE: JobFormValues = {
  name: "",
  source: "generated",
  generatedName: "poisson2d-100",
  matrixFile: null,
  rhsFiles: [],
  rhsMode: "ones",
  randomCount: "8",
  method: "cg",
  tol: "1e-8",
  maxIter: "500",
  distribute: false,
  blocks: "2",
};

const mtx = (name: string, text: string) => new File([text], name, { type: "text/plain" });

describe("buildSubmission", () => {
  it("one generated system with b = A·1 is a plain solve", async () => {
    const built = await buildSubmission(BASE);
    expect(built).toEqual({
      ok: true,
      submission: {
        name: "poisson2d-100",
        kind: "solve",
        matrix: { kind: "generated", name: "poisson2d-100" },
        rhs: { kind: "ones" },
        method: "cg",
        tol: 1e-8,
        maxIter: 500,
      },
    });
  });

  it("N random right-hand sides make a multi-rhs job", async () => {
    const built = await buildSubmission({ ...BASE, rhsMode: "random", randomCount: "5", name: " batch " });
    if (!built.ok) throw new Error(built.message);
    expect(built.submission.kind).toBe("multi-rhs");
    expect(built.submission.rhs).toEqual({ kind: "random", count: 5 });
    expect(built.submission.name).toBe("batch");
  });

  it("several uploaded b files make a multi-rhs job with their texts in order", async () => {
    const built = await buildSubmission({
      ...BASE,
      source: "upload",
      matrixFile: mtx("west0479.mtx", "A"),
      rhsFiles: [mtx("b1.mtx", "one"), mtx("b2.mtx", "two")],
    });
    if (!built.ok) throw new Error(built.message);
    expect(built.submission).toMatchObject({
      name: "west0479",
      kind: "multi-rhs",
      matrix: { kind: "matrix-market", text: "A" },
      rhs: { kind: "texts", texts: ["one", "two"] },
    });
  });

  it("distribute gives a distributed-solve with its block count", async () => {
    const built = await buildSubmission({ ...BASE, distribute: true, blocks: "4" });
    if (!built.ok) throw new Error(built.message);
    expect(built.submission.kind).toBe("distributed-solve");
    expect(built.submission.blocks).toBe(4);
  });

  it.each([
    [{ tol: "2" }, /tolerance/],
    [{ maxIter: "1.5" }, /max iterations/],
    [{ rhsMode: "random" as const, randomCount: "0" }, /random right-hand sides/],
    [{ distribute: true, blocks: "1" }, /row blocks/],
    [{ distribute: true, rhsMode: "random" as const, randomCount: "3" }, /one right-hand side, not 3/],
    [{ source: "upload" as const }, /file for A/],
  ])("refuses %o with a message naming the field", async (patch, message) => {
    const built = await buildSubmission({ ...BASE, ...patch });
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.message).toMatch(message);
  });

  it("kinds follow from distribute and the number of right-hand sides", () => {
    expect(jobKindFor(false, 1)).toBe("solve");
    expect(jobKindFor(false, 2)).toBe("multi-rhs");
    expect(jobKindFor(true, 1)).toBe("distributed-solve");
  });
});
