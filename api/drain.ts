import type { Response } from "express";
import type { Logger } from "pino";
import type { SessionManager } from "./session-manager.ts";

/**
 * Graceful drain (SIGTERM, signaling/run.ts): new sessions get 503 draining at once; running sessions get
 * `graceMs` to finish on their own; those still running then end with a server_shutdown solve_result that
 * names the session and says it is lost (session.ts); and the server closes only once every open stream
 * has written its last byte (or a short cap passes), so no client is cut off mid-event.
 */
export class Drain {
  private readonly streams = new Set<Response>();
  private drained: Promise<void> | null = null;

  constructor(
    private readonly manager: SessionManager,
    private readonly graceMs: number,
    private readonly logger: Logger,
  ) {}

  get draining(): boolean {
    return this.manager.draining;
  }

  /** Follows an open event stream until its response is finished or closed. */
  track(res: Response): void {
    this.streams.add(res);
    const forget = (): void => void this.streams.delete(res);
    res.on("finish", forget);
    res.on("close", forget);
  }

  run(): Promise<void> {
    this.drained ??= this.drain();
    return this.drained;
  }

  private async drain(): Promise<void> {
    this.manager.draining = true;
    const running = this.manager.runningCount;
    this.logger.info({ event: "api_draining", running, graceMs: this.graceMs });
    await this.manager.idle(this.graceMs);
    const ended = await this.manager.shutdownRunning();
    await this.streamsWritten(5_000);
    this.logger.info({ event: "api_drained", finished: running - ended, endedByShutdown: ended });
  }

  /** Waits until every tracked stream has ended (their final events flushed), at most `capMs`. */
  private async streamsWritten(capMs: number): Promise<void> {
    const deadline = Date.now() + capMs;
    const pending = [...this.streams].map(
      (res) =>
        new Promise<void>((resolve) => {
          if (res.writableFinished || res.destroyed) resolve();
          res.once("finish", () => resolve());
          res.once("close", () => resolve());
        }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(pending),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
  }
}
