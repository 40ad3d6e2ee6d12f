import { describe, expect, it } from "vitest";
import {
  decodeXp,
  encodeXp,
  joinXpOutputs,
  MAX_XP_OUTPUTS,
  splitXpOutputs,
  type XpMessage,
} from "../../../src/core/protocol/experts.ts";
import { parsePeerMessage } from "../../../src/core/protocol/peer.ts";
import {
  blocksToWide,
  layoutMismatch,
  wideToBlocks,
} from "../../../src/core/experts/router/dispatch/outputs.ts";

// infer-result carrying every output of a model (the generic job): blocks named in the header, one after
// the other in the attachment; and the requester's "wide" rows built from them.

const sha = "ab".repeat(32);
const wire = (message: XpMessage) => {
  const { body, attachment } = encodeXp(message);
  return {
    header: { v: 1, type: "xp", xv: 1, body: JSON.parse(JSON.stringify(body)) as unknown },
    attachment,
  };
};
const decode = (header: { body: unknown }, attachment: Uint8Array) => {
  const parsed = parsePeerMessage(header, attachment);
  if (!parsed.ok) return parsed;
  if (parsed.message.type !== "xp") throw new Error("not xp");
  return decodeXp(parsed.message.body, parsed.attachment);
};

describe("all-outputs infer messages", () => {
  it("round-trip: the request's flag, the result's named blocks, split back exactly", () => {
    const scores = Float32Array.from({ length: 3 * 4 }, (_, i) => i / 7);
    const energy = Float32Array.from({ length: 3 }, (_, i) => 100 + i);
    const joined = joinXpOutputs(3, [
      { name: "scores", data: scores, cols: 4 },
      { name: "energy", data: energy, cols: 1 },
    ]);
    expect(joined.cols).toBe(5);
    const messages: XpMessage[] = [
      {
        kind: "infer-request",
        id: "r1",
        model: sha,
        rows: 3,
        cols: 2,
        data: new Float32Array(6),
        allOutputs: true,
      },
      { kind: "infer-result", id: "r1", rows: 3, ms: 2, ...joined },
    ];
    for (const message of messages) {
      const { header, attachment } = wire(message);
      expect(decode(header, attachment)).toEqual({ ok: true, message });
    }
    const result = messages[1] as Extract<XpMessage, { kind: "infer-result" }>;
    const blocks = splitXpOutputs(result);
    expect([...blocks.keys()]).toEqual(["scores", "energy"]);
    expect([...blocks.get("scores")!.data]).toEqual([...scores]);
    expect([...blocks.get("energy")!.data]).toEqual([...energy]);
  });

  it("refuses blocks whose widths do not add up, duplicate names, too many blocks, a flag other than true", () => {
    const base = { kind: "infer-result", id: "r", rows: 2, cols: 3, ms: 1 };
    const bytes = new Uint8Array(2 * 3 * 4);
    const bad = [
      {
        ...base,
        outputs: [
          { name: "a", cols: 1 },
          { name: "b", cols: 1 },
        ],
      },
      {
        ...base,
        outputs: [
          { name: "a", cols: 2 },
          { name: "a", cols: 1 },
        ],
      },
      { ...base, outputs: [] },
      {
        ...base,
        cols: MAX_XP_OUTPUTS + 1,
        outputs: Array.from({ length: MAX_XP_OUTPUTS + 1 }, (_, i) => ({ name: `o${i}`, cols: 1 })),
      },
      { kind: "infer-request", id: "r", model: sha, rows: 2, cols: 3, allOutputs: false },
    ];
    for (const body of bad) {
      const size = body.rows * body.cols * 4;
      const result = decode({ ...{ v: 1, type: "xp", xv: 1 }, body } as never, new Uint8Array(size));
      expect(result.ok, JSON.stringify(body).slice(0, 80)).toBe(false);
    }
    expect(
      decode(
        { v: 1, type: "xp", xv: 1, body: { ...base, outputs: [{ name: "a", cols: 3 }] } } as never,
        bytes,
      ).ok,
    ).toBe(true);
  });

  it("wide rows hold every output of a row side by side, and come apart again", () => {
    const layout = [
      { name: "scores", cols: 2 },
      { name: "energy", cols: 1 },
    ];
    const blocks = new Map([
      ["energy", { data: Float32Array.of(9, 8, 7), cols: 1 }],
      ["scores", { data: Float32Array.of(1, 2, 3, 4, 5, 6), cols: 2 }],
    ]);
    const wide = blocksToWide(blocks, 3, layout);
    expect([...wide]).toEqual([1, 2, 9, 3, 4, 8, 5, 6, 7]);
    const back = wideToBlocks(wide, 3, layout);
    expect([...back["scores"]!.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...back["energy"]!.data]).toEqual([9, 8, 7]);
    expect(layoutMismatch(new Map([["scores", blocks.get("scores")!]]), 3, layout)).toMatch(/1 outputs/);
    expect(
      layoutMismatch(
        new Map([...blocks, ["energy", { data: Float32Array.of(1, 2, 3, 4, 5, 6), cols: 2 }]]),
        3,
        layout,
      ),
    ).toMatch(/energy is 2 wide/);
    expect(() => blocksToWide(new Map([["x", blocks.get("energy")!]]), 3, layout)).toThrow(/outputs changed/);
  });
});
