import type { JobKind } from "../../../core/jobs/model.ts";
import type { MethodName } from "../../../core/solver/types.ts";
import type { JobSubmission } from "../../../state/jobs/index.ts";
import { MAX_UPLOAD_BYTES, parseSolveLimits } from "../../solve-choices.ts";

/** What the swarm form holds, before validation (numbers still as typed). */
export interface JobFormValues {
  name: string;
  source: "generated" | "upload";
  generatedName: string;
  matrixFile: File | null;
  /** Uploaded right-hand sides: several files make a many-right-hand-side job. */
  rhsFiles: readonly File[];
  /** Without uploaded b: b = A·1, or this many random b. */
  rhsMode: "ones" | "random";
  randomCount: string;
  method: MethodName;
  tol: string;
  maxIter: string;
  distribute: boolean;
  blocks: string;
}

export const MAX_RANDOM_RHS = 1000;
export const MAX_BLOCKS = 64;

export type BuildResult = { ok: true; submission: JobSubmission } | { ok: false; message: string };

/** The job kind follows from the inputs: row blocks → distributed; several b → multi-rhs; else one solve. */
export function jobKindFor(distribute: boolean, rhsCount: number): JobKind {
  if (distribute) return "distributed-solve";
  return rhsCount > 1 ? "multi-rhs" : "solve";
}

function positiveInt(text: string, min: number, max: number): number | null {
  const value = Number(text);
  return Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/** Validates the form and reads the uploads; every refusal says which field is wrong and why. */
export async function buildSubmission(values: JobFormValues): Promise<BuildResult> {
  const limits = parseSolveLimits(values.tol, values.maxIter);
  if (!limits.ok) return limits;

  const uploadedRhs = values.source === "upload" ? values.rhsFiles : [];
  let rhsCount = 1;
  if (uploadedRhs.length > 0) rhsCount = uploadedRhs.length;
  else if (values.rhsMode === "random") {
    const count = positiveInt(values.randomCount, 1, MAX_RANDOM_RHS);
    if (count === null)
      return { ok: false, message: `the number of random right-hand sides must be 1 to ${MAX_RANDOM_RHS}` };
    rhsCount = count;
  }

  let blocks: number | undefined;
  if (values.distribute) {
    if (rhsCount > 1)
      return {
        ok: false,
        message: `a distributed solve takes one right-hand side, not ${rhsCount}: uncheck "distribute" to solve them as a batch`,
      };
    const parsed = positiveInt(values.blocks, 2, MAX_BLOCKS);
    if (parsed === null)
      return { ok: false, message: `row blocks must be an integer from 2 to ${MAX_BLOCKS}` };
    blocks = parsed;
  }

  let matrix: JobSubmission["matrix"];
  let baseName: string;
  if (values.source === "generated") {
    matrix = { kind: "generated", name: values.generatedName };
    baseName = values.generatedName;
  } else {
    if (!values.matrixFile) return { ok: false, message: "choose a Matrix Market (.mtx) file for A" };
    for (const file of [values.matrixFile, ...uploadedRhs]) {
      if (file.size > MAX_UPLOAD_BYTES) return { ok: false, message: `${file.name} is larger than 400 MiB` };
      if (file.size === 0) return { ok: false, message: `${file.name} is empty` };
    }
    matrix = { kind: "matrix-market", text: await values.matrixFile.text() };
    baseName = values.matrixFile.name.replace(/\.mtx$/i, "");
  }

  const rhs: JobSubmission["rhs"] =
    uploadedRhs.length > 0
      ? { kind: "texts", texts: await Promise.all(uploadedRhs.map((file) => file.text())) }
      : values.rhsMode === "random"
        ? { kind: "random", count: rhsCount }
        : { kind: "ones" };

  const submission: JobSubmission = {
    name: values.name.trim() || baseName,
    kind: jobKindFor(values.distribute, rhsCount),
    matrix,
    rhs,
    method: values.method,
    tol: limits.tol,
    maxIter: limits.maxIter,
    ...(blocks === undefined ? {} : { blocks }),
  };
  return { ok: true, submission };
}
