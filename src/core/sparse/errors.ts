import { CodedError } from "../base/coded-error.ts";

/**
 * Errors for bad matrix/vector input (Matrix Market text, JSON requests). Every failure a user can cause has
 * its own code and structured details, so the CLI and the HTTP API can report it precisely; the message is
 * the human sentence, the details are for programs.
 */

/** Where in the input a problem is: a 1-based line of text, or a field of a JSON request and an index into it. */
export interface InputLocation {
  /** 1-based line number in a text input. */
  line?: number;
  /** JSON field, e.g. "data.col_indices" or "b". */
  field?: string;
  /** 0-based position within `field`. */
  position?: number;
}

export interface InputErrorDetailsByCode {
  malformed_header: InputLocation & { found: string };
  unsupported_format: InputLocation & { found: string; supported: readonly string[] };
  not_square: { rows: number; cols: number };
  index_out_of_range: InputLocation & { index: number; min: number; max: number };
  count_mismatch: InputLocation & { what: string; expected: number; actual: number };
  non_finite: InputLocation & { value: string };
  vector_length: { expected: number; actual: number };
  too_large: { limit: keyof InputLimits; value: number; max: number };
  ambiguous_format: { format: string | null; expected: readonly string[]; got: readonly string[] };
  parse_error: InputLocation & { found?: string };
  /** A generator name (problem.ts) that names no example. */
  unknown_example: { name: string };
}

export type InputErrorCode = keyof InputErrorDetailsByCode;

export class InputError<C extends InputErrorCode = InputErrorCode> extends CodedError<C> {
  override readonly name = "InputError";
  readonly details: InputErrorDetailsByCode[C];

  constructor(code: C, message: string, details: InputErrorDetailsByCode[C]) {
    super(code, message);
    this.details = details;
  }

  toJSON(): { code: C; message: string; details: InputErrorDetailsByCode[C] } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** The union of all InputError variants: `switch (e.code)` narrows `e.details`. */
export type AnyInputError = { [C in InputErrorCode]: InputError<C> }[InputErrorCode];

export function isInputError(e: unknown): e is AnyInputError {
  return e instanceof InputError;
}

/** Size limits applied before anything big is allocated (a header can claim any size). */
export interface InputLimits {
  maxRows: number;
  maxNnz: number;
}

export const DEFAULT_INPUT_LIMITS: Readonly<InputLimits> = {
  maxRows: 20_000_000,
  maxNnz: 50_000_000,
};

/** Options shared by the matrix parsers. */
export interface MatrixInputOptions extends Partial<InputLimits> {
  /** Accept rows !== cols (default false: every solver needs a square matrix). */
  allowRectangular?: boolean;
}

export function resolveLimits(options: MatrixInputOptions | undefined): InputLimits {
  return {
    maxRows: options?.maxRows ?? DEFAULT_INPUT_LIMITS.maxRows,
    maxNnz: options?.maxNnz ?? DEFAULT_INPUT_LIMITS.maxNnz,
  };
}

/** Throws too_large / not_square for declared sizes, before the caller allocates. */
export function checkDeclaredSize(
  rows: number,
  cols: number,
  nnz: number,
  options: MatrixInputOptions | undefined,
): void {
  const limits = resolveLimits(options);
  const dim = Math.max(rows, cols);
  if (dim > limits.maxRows) {
    throw new InputError(
      "too_large",
      `matrix has ${dim} rows/cols; the limit is ${limits.maxRows} (maxRows)`,
      { limit: "maxRows", value: dim, max: limits.maxRows },
    );
  }
  if (nnz > limits.maxNnz) {
    throw new InputError("too_large", `matrix has ${nnz} nonzeros; the limit is ${limits.maxNnz} (maxNnz)`, {
      limit: "maxNnz",
      value: nnz,
      max: limits.maxNnz,
    });
  }
  if (rows !== cols && options?.allowRectangular !== true) {
    throw new InputError("not_square", `matrix is ${rows}×${cols}; a linear solve needs a square matrix`, {
      rows,
      cols,
    });
  }
}
