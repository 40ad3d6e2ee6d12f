/**
 * A callback to the page (a Comlink proxy) whose calls the worker can wait for. The solve's outcome and
 * its iteration updates travel on different message ports, so the outcome could reach the page before
 * the last updates (the page then drew them as a new run's: iteration 1062 for a 531-iteration solve).
 * Calls on one proxy are handled in order, so once the last call has answered, all of them have been.
 */
export function delivered<A extends unknown[]>(
  callback: (...args: A) => unknown,
): { call: (...args: A) => void; settled: () => Promise<void> } {
  let last: unknown = undefined;
  return {
    call: (...args) => {
      last = callback(...args);
    },
    settled: async () => {
      try {
        await last;
      } catch {
        // A page that went away cannot be waited for; the outcome goes back (or not) all the same.
      }
    },
  };
}
