import type { CsrMatrix } from "./csr.ts";

/**
 * Formats a double so that reading it back gives the same double: JS's shortest round-trip form (never more
 * digits than "%.17g", often fewer). Non-finite values (a diverged iterate) are written as SciPy/C read them.
 */
function formatValue(v: number): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? "-0" : String(v);
  if (Number.isNaN(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

function commentLines(comments: readonly string[] | undefined): string {
  if (comments === undefined || comments.length === 0) return "";
  // A comment must not break the file: split embedded line breaks into further % lines.
  return comments
    .flatMap((c) => c.split(/\r?\n/))
    .map((c) => `% ${c}\n`)
    .join("");
}

export interface WriteOptions {
  /** Lines written as `% ...` comments after the banner. */
  comments?: readonly string[];
}

/** A vector as `%%MatrixMarket matrix array real general` (n×1), one full-precision value per line. */
export function writeMatrixMarketVector(x: ArrayLike<number>, options: WriteOptions = {}): string {
  const parts = new Array<string>(x.length + 2);
  parts[0] = `%%MatrixMarket matrix array real general\n${commentLines(options.comments)}${x.length} 1`;
  for (let i = 0; i < x.length; i++) parts[i + 1] = formatValue(x[i]!);
  parts[x.length + 1] = "";
  return parts.join("\n");
}

/** A CSR matrix as `%%MatrixMarket matrix coordinate real general` (every stored entry, 1-based). */
export function writeMatrixMarketMatrix(a: CsrMatrix, options: WriteOptions = {}): string {
  const nnz = a.rowPtr[a.rows] ?? 0;
  const parts = new Array<string>(nnz + 2);
  parts[0] = `%%MatrixMarket matrix coordinate real general\n${commentLines(options.comments)}${a.rows} ${a.cols} ${nnz}`;
  let k = 1;
  for (let i = 0; i < a.rows; i++) {
    const end = a.rowPtr[i + 1]!;
    for (let p = a.rowPtr[i]!; p < end; p++) {
      parts[k++] = `${i + 1} ${a.colIdx[p]! + 1} ${formatValue(a.values[p]!)}`;
    }
  }
  parts[k] = "";
  return parts.join("\n");
}
