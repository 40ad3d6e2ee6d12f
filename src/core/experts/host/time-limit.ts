/** A promise given at most `ms`: past it, the caller stops waiting (TimeLimitExceeded) and must end the
 *  work itself (terminate the worker that does it): the work's own settlement is then ignored. */
export class TimeLimitExceeded extends Error {
  override readonly name = "TimeLimitExceeded";
}

export function withTimeLimit<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeLimitExceeded(message)), ms);
  });
  work.catch(() => undefined); // settles after the limit when it lost: not an unhandled rejection
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}
