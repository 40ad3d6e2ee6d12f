import type { IncomingMessage } from "node:http";
import type { RequestHandler, Response } from "express";
import { bearerOf } from "../signaling/http-security.ts";
import { clientAddress, isLoopback } from "../signaling/limits/client-address.ts";
import { ApiError } from "./errors.ts";
import { API_SCOPES, findKey, type ApiKey, type ApiScope } from "./keys.ts";
import type { Session } from "./session.ts";
import type { SessionStore } from "./session-store.ts";
import { unknownSession } from "./unknown-session.ts";

/**
 * Who is calling: a configured API key (its scopes), or, when no key is configured, a caller on this
 * machine with every scope. `owner` is what a session is stamped with at start: a key sees only sessions
 * with its own owner, unless it has `admin`.
 */
export interface Caller {
  readonly owner: string;
  readonly keyId: string | null;
  readonly scopes: ReadonlySet<ApiScope>;
}

/** The owner of every session started without keys configured (loopback callers only). */
const LOCAL_CALLER: Caller = { owner: "loopback", keyId: null, scopes: new Set(API_SCOPES) };

/**
 * Who calls, from the request alone (an HTTP request or a WebSocket upgrade): `Authorization: Bearer KEY`
 * when keys are configured (401 missing_api_key / invalid_api_key), loopback callers only when none is (403
 * api_keys_required). Throws the ApiError to answer.
 */
export function identifyCaller(req: IncomingMessage, keys: readonly ApiKey[], trustProxy: boolean): Caller {
  if (keys.length === 0) {
    if (!isLoopback(clientAddress(req, trustProxy))) {
      throw new ApiError(
        403,
        "api_keys_required",
        "this server has no API keys configured, so its API answers this machine only; set OPEN_SWARM_API_KEYS=KEY:submit+read (or OPEN_SWARM_API_KEYS_FILE) and send Authorization: Bearer KEY",
      );
    }
    return LOCAL_CALLER;
  }
  const presented = bearerOf(req);
  if (presented === null) {
    throw new ApiError(401, "missing_api_key", "send Authorization: Bearer KEY (an API key of this server)");
  }
  const key = findKey(keys, presented);
  if (key === null) throw new ApiError(401, "invalid_api_key", "the bearer is not an API key of this server");
  return { owner: `key:${key.id}`, keyId: key.id, scopes: key.scopes };
}

/** Authenticates every API request (identifyCaller) and leaves the caller in res.locals for the routes. */
export function authenticate(keys: readonly ApiKey[], trustProxy: boolean): RequestHandler {
  return (req, res, next) => {
    try {
      res.locals["caller"] = identifyCaller(req, keys, trustProxy);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        const detail = error.code === "invalid_api_key" ? ', error="invalid_token"' : "";
        res.setHeader("WWW-Authenticate", `Bearer realm="open-swarm"${detail}`);
      }
      throw error;
    }
    next();
  };
}

function hasScope(caller: Caller, scope: ApiScope): boolean {
  return caller.scopes.has(scope) || caller.scopes.has("admin");
}

/** The session `id` if `caller` may see it (its own, or any with admin); else the 404 of a missing one. */
export function ownSession(caller: Caller, store: SessionStore, id: string): Session {
  const session = store.get(id);
  if (session === undefined) throw unknownSession();
  if (session.owner !== caller.owner && !caller.scopes.has("admin")) throw unknownSession();
  return session;
}

export function callerOf(res: Response): Caller {
  const caller = res.locals["caller"] as Caller | undefined;
  // authenticate() runs before every route; a route reached without it is a wiring bug, not a caller's.
  if (caller === undefined) throw new Error("api: route reached without authenticate()");
  return caller;
}

/** Throws 403 insufficient_scope unless the caller has `scope` (admin has every scope). */
export function requireScope(res: Response, scope: ApiScope): Caller {
  return checkScope(callerOf(res), scope);
}

/** `caller`, or 403 insufficient_scope naming the scope it lacks. */
export function checkScope(caller: Caller, scope: ApiScope): Caller {
  if (!hasScope(caller, scope)) {
    throw new ApiError(
      403,
      "insufficient_scope",
      `this needs the "${scope}" scope (or admin); the key has ${[...caller.scopes].join("+")}`,
    );
  }
  return caller;
}

/**
 * The session `id` if the caller has `scope` and may see it: its own, or any with admin. Another key's
 * session is a 404 exactly like a missing one, so a key cannot learn that someone else's session exists.
 */
export function sessionFor(
  res: Response,
  store: SessionStore,
  id: string | undefined,
  scope: ApiScope,
): Session {
  return ownSession(requireScope(res, scope), store, id ?? "");
}
