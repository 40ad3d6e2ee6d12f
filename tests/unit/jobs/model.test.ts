import { describe, expect, it } from "vitest";
import {
  appendCapped,
  JOB_ID_PATTERN,
  newJobId,
  parseUnitId,
  unitIdOf,
  volunteerCapabilitiesFrom,
  DEFAULT_VOLUNTEER_MEMORY_BYTES,
} from "../../../src/core/jobs/model.ts";
import { seededRandom } from "./helpers.ts";

describe("model helpers", () => {
  it("makes job ids that match the pattern, and unit ids that parse back", () => {
    const random = seededRandom(3);
    const ids = new Set(Array.from({ length: 1000 }, () => newJobId(random)));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(JOB_ID_PATTERN);
      expect(id).toHaveLength(16);
      expect(parseUnitId(unitIdOf(id, 42))).toEqual({ jobId: id, index: 42 });
    }
    expect(() => parseUnitId("job/007")).toThrow(/not a unit id/);
    expect(() => parseUnitId("a/b/1")).toThrow(/not a unit id/);
  });

  it("maps announced capabilities to what the scheduler matches on", () => {
    const caps = {
      webgpu: null,
      wasm: { simd: true, threads: false },
      hardwareConcurrency: 2,
      crossOriginIsolated: false,
      benchmarkMflops: 321,
      runtime: "browser" as const,
    };
    expect(volunteerCapabilitiesFrom(caps)).toEqual({
      webgpu: false,
      memoryBytes: DEFAULT_VOLUNTEER_MEMORY_BYTES,
      benchmarkMflops: 321,
    });
  });

  it("caps per-unit histories", () => {
    let list: readonly number[] = [];
    for (let i = 0; i < 40; i++) list = appendCapped(list, i, 32);
    expect(list).toHaveLength(32);
    expect(list[0]).toBe(8);
    expect(list[31]).toBe(39);
  });
});
