import { readFileSync, statSync } from "node:fs";
import type { CsrMatrix } from "../core/sparse/csr.ts";
import { InputError } from "../core/sparse/errors.ts";
import { isExampleName } from "../core/sparse/generators.ts";
import { matrixFrom, rhsFrom } from "../core/sparse/problem.ts";
import { CliError, describeFsError } from "./cli-error.ts";

/** V8 cannot hold a string longer than about 2²⁹ characters; refuse before trying to read one. */
const MAX_TEXT_BYTES = 2 ** 29 - 64;

/** Prefixes an InputError's message with the file it came from, keeping code and details. */
function inFile(path: string, e: unknown): unknown {
  if (e instanceof InputError) {
    const located = new InputError(e.code, `${path}: ${e.message}`, e.details);
    return located;
  }
  return e;
}

function readText(path: string, what: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    size = st.size;
  } catch (e) {
    const { code, text } = describeFsError(e);
    throw new CliError(
      code === "ENOENT" ? "file_not_found" : "file_unreadable",
      `cannot read ${what} ${path}: ${text}`,
    );
  }
  if (size > MAX_TEXT_BYTES) {
    throw new InputError(
      "too_large",
      `${path} is ${size} bytes; this reader holds a file as one string, at most ${MAX_TEXT_BYTES} bytes`,
      { limit: "maxNnz", value: size, max: MAX_TEXT_BYTES },
    );
  }
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError("file_unreadable", `cannot read ${what} ${path}: ${describeFsError(e).text}`);
  }
}

export interface LoadedMatrix {
  a: CsrMatrix;
  /** "file" for a Matrix Market file, "generated" for a generator name such as poisson2d-1000. */
  source: "file" | "generated";
  loadMs: number;
}

/** Reads a Matrix Market file, or builds a generator matrix ("poisson2d-K", "poisson3d-K") if no such file exists. */
export function loadMatrix(pathOrName: string): LoadedMatrix {
  const start = performance.now();
  let exists = true;
  try {
    statSync(pathOrName);
  } catch {
    exists = false;
  }
  if (!exists && isExampleName(pathOrName)) {
    const a = matrixFrom({ kind: "generated", name: pathOrName });
    return { a, source: "generated", loadMs: performance.now() - start };
  }
  const text = readText(pathOrName, "matrix");
  try {
    return {
      a: matrixFrom({ kind: "matrix-market", text }),
      source: "file",
      loadMs: performance.now() - start,
    };
  } catch (e) {
    throw inFile(pathOrName, e);
  }
}

/** b = A·1 without a path; else reads the right-hand side and checks it against the matrix's row count. */
export function loadRhs(path: string | undefined, a: CsrMatrix): Float64Array {
  if (path === undefined) return rhsFrom(a, { kind: "ones" });
  const text = readText(path, "right-hand side");
  const rows = a.rows;
  let b: Float64Array;
  try {
    b = rhsFrom(a, { kind: "matrix-market", text });
  } catch (e) {
    throw inFile(path, e);
  }
  if (b.length !== rows) {
    throw new InputError(
      "vector_length",
      `${path}: the right-hand side has ${b.length} entries; the matrix has ${rows} rows`,
      { expected: rows, actual: b.length },
    );
  }
  return b;
}
