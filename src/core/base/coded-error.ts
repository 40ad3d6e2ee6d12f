/**
 * The base of every error the project throws on purpose. `code` is for programs (a switch, a test, the
 * CLI's `error [code]`, the dashboard, the HTTP API's `{error:{code}}`): snake_case and part of the public
 * contract (see README.md in this folder). `message` is the sentence for people. Each subclass sets `name`
 * to its class name, so logs and `String(error)` say which family an error belongs to.
 */
export abstract class CodedError<C extends string = string> extends Error {
  abstract override readonly name: string;
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Whether `error` is one of the project's coded errors, whichever family (narrow further with `code`). */
export function isCodedError(error: unknown): error is CodedError {
  return error instanceof CodedError;
}
