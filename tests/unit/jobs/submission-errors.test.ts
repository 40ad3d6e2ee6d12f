import { describe, expect, it } from "vitest";
import { isCodedError } from "../../../src/core/base/coded-error.ts";
import { buildSubmission, type JobFormValues } from "../../../src/app/components/jobs/job-submission.ts";
import { peersOnline, peersOnlineText } from "../../../src/state/swarm/peers-online.ts";
import type { SwarmPeerView } from "../../../src/state/swarm/store.ts";
import { submissionToInput } from "../../../src/state/jobs/submission.ts";
import type { JobSubmission } from "../../../src/state/jobs/types.ts";

// Issue 11 item 8: what a refused submission says is a sentence for people (which input, what is wrong),
// with the code kept apart in `.code`; never zod's text ("✖ Too small … → at matrix.text") or a code
// repeated in front of the sentence. Item 13: one definition of "peers online".

const BASE: JobSubmission = {
  name: "job",
  kind: "solve",
  matrix: { kind: "generated", name: "poisson2d-10" },
  rhs: { kind: "ones" },
  method: "cg",
  tol: 1e-8,
  maxIter: 100,
};

function refusal(submission: JobSubmission): { code: string; message: string } {
  try {
    submissionToInput(submission);
  } catch (error) {
    if (!isCodedError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error("the submission was accepted");
}

const vector = (n: number) =>
  `%%MatrixMarket matrix array real general\n${n} 1\n${Array.from({ length: n }, () => "1").join("\n")}\n`;

describe("submission refusals", () => {
  it.each<[string, JobSubmission, string, string]>([
    [
      "an empty matrix file",
      { ...BASE, matrix: { kind: "matrix-market", text: "" } },
      "invalid_spec",
      "the matrix file is empty",
    ],
    [
      "a blank matrix file",
      { ...BASE, matrix: { kind: "matrix-market", text: " \n\n" } },
      "invalid_spec",
      "the matrix file is empty",
    ],
    [
      "a short b",
      { ...BASE, rhs: { kind: "texts", texts: [vector(3)] } },
      "invalid_spec",
      "b has 3 entries but A has 100 rows",
    ],
    [
      "a short second b",
      { ...BASE, kind: "multi-rhs", rhs: { kind: "texts", texts: [vector(100), vector(7)] } },
      "invalid_spec",
      "right-hand side 2 has 7 entries but A has 100 rows",
    ],
    [
      "an empty b file",
      { ...BASE, rhs: { kind: "texts", texts: [""] } },
      "invalid_spec",
      "right-hand side file 1 is empty",
    ],
    [
      "no name",
      { ...BASE, name: "" },
      "invalid_spec",
      "the job needs a name (or leave it empty to use the matrix's)",
    ],
    [
      "a zero tolerance",
      { ...BASE, tol: 0 },
      "invalid_spec",
      "the tolerance must be a number above 0 and at most 1 (e.g. 1e-8)",
    ],
    [
      "too many random b",
      { ...BASE, rhs: { kind: "random", count: 1e6 } },
      "invalid_spec",
      "the number of random right-hand sides must be an integer from 1 to 4096",
    ],
  ])("%s", (_what, submission, code, message) => {
    expect(refusal(submission)).toEqual({ code, message });
  });

  it("a parse error names the file it is about and keeps the parser's code", () => {
    const r = refusal({ ...BASE, matrix: { kind: "matrix-market", text: "garbage" } });
    expect(r.code).toBe("malformed_header");
    expect(r.message).toMatch(/^the matrix file: line 1: /);
  });

  it("no message carries zod's text, a field path or its code in front", () => {
    const messages = [
      refusal({ ...BASE, matrix: { kind: "matrix-market", text: "" } }),
      refusal({ ...BASE, name: "" }),
      refusal({ ...BASE, maxIter: 0 }),
      refusal({ ...BASE, rhs: { kind: "texts", texts: [vector(3)] } }),
    ];
    for (const { code, message } of messages) {
      expect(message).not.toMatch(/✖|→|matrix\.text|Too small|expected/);
      expect(message.startsWith(code)).toBe(false);
    }
  });

  it("the form names an empty uploaded file before reading it", async () => {
    const values: JobFormValues = {
      name: "",
      source: "upload",
      generatedName: "poisson2d-100",
      matrixFile: new File([], "A.mtx"),
      rhsFiles: [],
      rhsMode: "ones",
      randomCount: "8",
      method: "cg",
      tol: "1e-8",
      maxIter: "500",
      distribute: false,
      blocks: "2",
    };
    expect(await buildSubmission(values)).toEqual({ ok: false, message: "A.mtx is empty" });
  });
});

describe("peers online (item 13)", () => {
  const peer = { peerId: "p" } as SwarmPeerView;
  it("counts the other peers, never this tab, in every view", () => {
    expect(peersOnline({ status: "connected", peers: [], othersOnline: 0 })).toBe(0);
    expect(peersOnline({ status: "connected", peers: [peer, peer], othersOnline: 2 })).toBe(2);
    expect(peersOnline({ status: "disconnected", peers: [peer], othersOnline: 1 })).toBe(0);
    // A big swarm: this tab knows a sample, the directory counts them all.
    expect(peersOnline({ status: "connected", peers: [peer], othersOnline: 900 })).toBe(900);
    expect(peersOnlineText(0)).toBe("0 other peers online");
    expect(peersOnlineText(1)).toBe("1 other peer online");
  });
});
