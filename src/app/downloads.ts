import { writeMatrixMarketVector } from "../core/sparse/matrix-market.ts";
import { saveFile } from "./save-file.ts";

export function downloadSolutionMtx(name: string, x: Float64Array): void {
  saveFile(
    `${name}-x.mtx`,
    writeMatrixMarketVector(x, { comments: [`solution of ${name} by Open-Swarm`] }),
    "text/plain",
  );
}

/** A right-hand side b as the job used it, so x can be checked against it (‖b − A x‖/‖b‖). */
export function downloadRhsMtx(name: string, b: Float64Array): void {
  saveFile(
    `${name}-b.mtx`,
    writeMatrixMarketVector(b, { comments: [`right-hand side of ${name} (Open-Swarm)`] }),
    "text/plain",
  );
}

export function downloadSolutionJson(name: string, x: Float64Array, meta: Record<string, unknown>): void {
  saveFile(`${name}-x.json`, JSON.stringify({ ...meta, x: Array.from(x) }), "application/json");
}

/** Every solution of a many-right-hand-side job in one file: `x[k]` solves `A x = b_k`, and the meta says
 *  with which certified residual (`rel_residuals[k]`). */
export function downloadSolutionsJson(
  name: string,
  xs: readonly Float64Array[],
  meta: Record<string, unknown>,
): void {
  saveFile(
    `${name}-x.json`,
    JSON.stringify({ ...meta, x: xs.map((x) => Array.from(x)) }),
    "application/json",
  );
}
