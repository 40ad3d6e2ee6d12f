import { writeMatrixMarketVector } from "../core/sparse/matrix-market.ts";

function download(filename: string, content: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadSolutionMtx(name: string, x: Float64Array): void {
  download(
    `${name}-x.mtx`,
    writeMatrixMarketVector(x, { comments: [`solution of ${name} by Open-Swarm`] }),
    "text/plain",
  );
}

export function downloadSolutionJson(name: string, x: Float64Array, meta: Record<string, unknown>): void {
  download(`${name}-x.json`, JSON.stringify({ ...meta, x: Array.from(x) }), "application/json");
}

/** Every solution of a many-right-hand-side job in one file: `x[k]` solves `A x = b_k`. */
export function downloadSolutionsJson(
  name: string,
  xs: readonly Float64Array[],
  meta: Record<string, unknown>,
): void {
  download(
    `${name}-x.json`,
    JSON.stringify({ ...meta, x: xs.map((x) => Array.from(x)) }),
    "application/json",
  );
}
