import { createHmac } from "node:crypto";
import type { IceServer } from "./config.ts";

export interface TurnConfig {
  readonly urls: readonly string[];
  readonly secret: string;
  readonly ttlS: number;
}

/**
 * Short-lived TURN credentials in the TURN REST API scheme (draft-uberti-behave-turn-rest-00, coturn's
 * `use-auth-secret` / `static-auth-secret`): username = "<expiry unix seconds>:<peer id>", credential =
 * base64(HMAC-SHA1(secret, username)). The TURN server recomputes the HMAC and refuses an expired
 * timestamp, so a leaked credential is good for one peer id and at most `ttlS` seconds, and the secret
 * itself never leaves the servers.
 */
export function turnCredentials(turn: TurnConfig, peerId: string, nowMs: number): IceServer {
  const expiryS = Math.floor(nowMs / 1000) + turn.ttlS;
  const username = `${expiryS}:${peerId}`;
  const credential = createHmac("sha1", turn.secret).update(username).digest("base64");
  return { urls: [...turn.urls], username, credential };
}
