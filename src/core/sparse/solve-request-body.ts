import type { CsrMatrix } from "./csr.ts";

/**
 * A solve_request body (the API's JSON, read back by linear-system-request.ts): A in CSR (row_pointers +
 * col_indices), b_i = b(i) (default 1 + (i mod 7)), the method and options as the API takes them. For the
 * API's benches and tests, which send real systems.
 */
export function solveRequest(
  a: CsrMatrix,
  method: string,
  options: Record<string, unknown>,
  b: (i: number) => number = (i) => 1 + (i % 7),
): Record<string, unknown> {
  return {
    matrix: {
      rows: a.rows,
      cols: a.cols,
      format: "csr",
      data: {
        values: Array.from(a.values),
        row_pointers: Array.from(a.rowPtr),
        col_indices: Array.from(a.colIdx),
      },
    },
    vector: Array.from({ length: a.rows }, (_, i) => b(i)),
    method,
    options,
  };
}
