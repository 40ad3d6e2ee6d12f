import { DIRECTORY_PATH } from "../protocol/directory.ts";

/**
 * The directory client's socket (directory-client.ts): the part of the WebSocket API it uses, so a tab
 * passes the DOM's and Node the `ws` package's, and the URL it is opened on.
 */

/** Handler types are declared method-style so that both DOM and `ws` event types are accepted. */
type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/** The part of the WebSocket API this client uses: satisfied by the DOM WebSocket and by `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Converts the site's origin (http/https) to the directory's WebSocket URL (ws/wss). */
export function directoryUrlFor(httpOrigin: string): string {
  const url = new URL(DIRECTORY_PATH, httpOrigin);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  else throw new Error(`directoryUrlFor: expected an http(s) origin, got '${httpOrigin}'`);
  return url.toString();
}

export /** Stops listening to a socket we are abandoning. */ function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  // Keep an error handler: `ws` emits an error when a connecting socket is closed, and an EventEmitter
  // 'error' without a listener throws.
  socket.onerror = () => {};
}
