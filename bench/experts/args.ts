import { parseArgs } from "node:util";
import { CodedError } from "../../src/core/base/coded-error.ts";

/**
 * bench:experts' command line, validated into a config (or one specific error: which flag, what was wrong).
 *
 *   --json FILE            write the result as JSON
 *   --images N             test images per timed pass (default 1000; --quick 500)
 *   --batch N              rows per model run in the single-model phases (default 100)
 *   --reps N               timed passes per model (default 15; --quick 5), after --warmup untimed passes
 *   --warmup N             untimed passes before the timed ones (default 3: the first runs of a session
 *                          are several times slower while wasm code and buffers warm up)
 *   --threads N            ORT threads, browser worker and native alike (default 1: the product's setting)
 *   --volunteers 1,2,4     volunteer tab counts of the swarm phase (default 1,2,4; --quick 1,2)
 *   --swarm-reps N         timed classify jobs per volunteer count (default 5; --quick 2)
 *   --first-runs N         repeats of the first-run measurement (default 3): fresh tabs, 2 volunteers,
 *                          the first classify job against the second in the same tabs
 *   --first-run-images N   images per first-run job (default 500)
 *   --skip-first-run, --skip-swarm, --skip-browser, --skip-native
 *   --first-run-start W    found (default): the first job starts as soon as the requester's router has every
 *                          volunteer; warm: once they have loaded the experts placed on them too; ready:
 *                          once they are also trusted (the Experts view's hosts table shows "trusted" for
 *                          each: they passed the checks before any job, router qualification.ts). warm and
 *                          ready are a person who looks at the form for that long
 *   --quick                the smaller defaults above
 */
export interface ExpertsBenchConfig {
  readonly json: string | null;
  readonly images: number;
  readonly batchRows: number;
  readonly reps: number;
  readonly warmup: number;
  readonly threads: number;
  readonly volunteerCounts: readonly number[];
  readonly swarmReps: number;
  readonly firstRuns: number;
  readonly firstRunImages: number;
  readonly firstRunStart: FirstRunStart;
  readonly skipFirstRun: boolean;
  readonly skipSwarm: boolean;
  readonly skipBrowser: boolean;
  readonly skipNative: boolean;
  readonly quick: boolean;
}

export type ArgsErrorCode = "bad_option" | "bad_number" | "bad_list" | "out_of_range";

export type ParsedArgs =
  | { readonly ok: true; readonly config: ExpertsBenchConfig }
  | { readonly ok: false; readonly code: ArgsErrorCode; readonly message: string };

/** The Fashion-MNIST test set has 10,000 images. */
export const MAX_IMAGES = 10_000;
export const MAX_TABS = 8;

const OPTIONS = {
  json: { type: "string" },
  images: { type: "string" },
  batch: { type: "string" },
  reps: { type: "string" },
  warmup: { type: "string" },
  threads: { type: "string" },
  volunteers: { type: "string" },
  "swarm-reps": { type: "string" },
  "first-runs": { type: "string" },
  "first-run-images": { type: "string" },
  "first-run-start": { type: "string" },
  "skip-first-run": { type: "boolean", default: false },
  "skip-swarm": { type: "boolean", default: false },
  "skip-browser": { type: "boolean", default: false },
  "skip-native": { type: "boolean", default: false },
  quick: { type: "boolean", default: false },
} as const;

class ArgsError extends CodedError<ArgsErrorCode> {
  override readonly name = "ArgsError";
}

export function parseExpertsArgs(argv: readonly string[]): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    return { ok: false, code: "bad_option", message: error instanceof Error ? error.message : String(error) };
  }
  try {
    const quick = values.quick;
    const images = int("--images", values.images, quick ? 500 : 1000, 1, MAX_IMAGES);
    const batchRows = int("--batch", values.batch, 100, 1, images);
    const config: ExpertsBenchConfig = {
      json: values.json ?? null,
      images,
      batchRows,
      reps: int("--reps", values.reps, quick ? 5 : 15, 1, 100),
      warmup: int("--warmup", values.warmup, 3, 0, 20),
      threads: int("--threads", values.threads, 1, 1, 2),
      volunteerCounts: list("--volunteers", values.volunteers ?? (quick ? "1,2" : "1,2,4")),
      swarmReps: int("--swarm-reps", values["swarm-reps"], quick ? 2 : 5, 1, 20),
      firstRuns: int("--first-runs", values["first-runs"], 3, 1, 10),
      firstRunImages: int("--first-run-images", values["first-run-images"], 500, 1, MAX_IMAGES),
      firstRunStart: firstRunStart(values["first-run-start"]),
      skipFirstRun: values["skip-first-run"],
      skipSwarm: values["skip-swarm"],
      skipBrowser: values["skip-browser"],
      skipNative: values["skip-native"],
      quick,
    };
    if (config.json === "") throw new ArgsError("bad_option", "--json needs a file name");
    return { ok: true, config };
  } catch (error) {
    if (error instanceof ArgsError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

export type FirstRunStart = "found" | "warm" | "ready";

function firstRunStart(raw: string | undefined): FirstRunStart {
  if (raw === undefined || raw === "found" || raw === "warm" || raw === "ready") return raw ?? "found";
  throw new ArgsError("bad_option", `--first-run-start is found, warm or ready, not '${raw}'`);
}

function int(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim()))
    throw new ArgsError("bad_number", `${flag} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ArgsError("out_of_range", `${flag} must be in ${min}..${max}, got ${n}`);
  return n;
}

/** "1,2,4": distinct volunteer counts in increasing order (tabs are added between stages, never closed). */
function list(flag: string, raw: string): number[] {
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new ArgsError("bad_list", `${flag} must be comma-separated whole numbers like 1,2,4, got "${raw}"`);
  }
  const counts = parts.map(Number);
  for (const n of counts) {
    if (n < 1 || n > MAX_TABS)
      throw new ArgsError("out_of_range", `${flag}: each count must be in 1..${MAX_TABS}, got ${n}`);
  }
  for (let i = 1; i < counts.length; i++) {
    if (counts[i]! <= counts[i - 1]!) {
      throw new ArgsError(
        "bad_list",
        `${flag} must increase (tabs are only added between stages), got "${raw}"`,
      );
    }
  }
  return counts;
}
