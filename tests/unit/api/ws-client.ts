import { WebSocket } from "ws";
import { bearer } from "./helpers.ts";

export interface WsClient {
  readonly ws: WebSocket;
  /** The next frame (after those already taken) that matches, waiting for it if needed. */
  readonly next: (match: (m: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
  readonly frames: Record<string, unknown>[];
}

/**
 * A client socket on /api/v1/ws with a queue of received frames and a way to wait for one that matches;
 * `onFrame` sees every frame too (ws.test.ts checks them all against the documented schema).
 */
export async function connectWs(
  baseUrl: string,
  key: string | null,
  onFrame: (frame: Record<string, unknown>) => void = () => undefined,
): Promise<WsClient> {
  const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/api/v1/ws`, {
    headers: key === null ? {} : bearer(key),
  });
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as Record<string, unknown>;
    frames.push(frame);
    onFrame(frame);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let seen = 0;
  const next = async (match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    for (;;) {
      while (seen < frames.length) {
        const frame = frames[seen++]!;
        if (match(frame)) return frame;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { ws, next, frames };
}
