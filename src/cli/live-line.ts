/** Where a live line goes: stderr, a terminal or not. */
export interface LiveLineOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface LiveLine {
  show(line: string): void;
  /** Prints a line held back by the throttle (a pipe), and stops the timer. */
  flush(): void;
}

/**
 * A status line that keeps up without flooding: a terminal gets one rewritten line; a pipe (a log, a test)
 * gets a line at once when its state changes (`stateOf`: the line without its running figures), otherwise
 * at most one per `intervalMs`, and the last figures held back are printed when that interval ends (so the
 * final count of a burst is never lost).
 */
export function liveLine(
  out: LiveLineOutput,
  stateOf: (line: string) => string,
  intervalMs: number,
): LiveLine {
  const tty = out.isTTY === true;
  let lastLine = "";
  let lastState = "";
  let lastPrintMs = -Infinity;
  let held: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const print = (line: string): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    held = null;
    lastState = stateOf(line);
    lastPrintMs = performance.now();
    out.write(`${line}\n`);
  };
  return {
    show(line) {
      if (line === lastLine) return;
      lastLine = line;
      if (tty) return void out.write(`\r\x1b[2K${line}`);
      const waitMs = lastPrintMs + intervalMs - performance.now();
      if (stateOf(line) !== lastState || waitMs <= 0) return print(line);
      held = line;
      timer ??= setTimeout(() => held !== null && print(held), waitMs);
      // A held line never keeps the process alive.
      (timer as { unref?: () => void }).unref?.();
    },
    flush() {
      if (held !== null) print(held);
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
