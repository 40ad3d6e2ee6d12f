import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The SuiteSparse matrices in ../shared/matrices beside the repository (read-only, never copied). */
export const SHARED_MATRICES_DIR = fileURLToPath(new URL("../../../shared/matrices/", import.meta.url));

/** Matrix Market text of a shared matrix, e.g. sharedMatrixText("bcsstk13"). */
export function sharedMatrixText(name: string): string {
  return readFileSync(`${SHARED_MATRICES_DIR}${name}.mtx`, "utf8");
}
