import { z } from "zod";
import { CodedError } from "../base/coded-error.ts";

/**
 * GET /api/v1/config: the ICE servers for WebRTC. Anyone gets the public ones (STUN); TURN servers, with
 * short-lived credentials minted for this peer, only a peer that has joined the directory and shows its
 * session (`Authorization: Bearer <peerId>.<sessionToken>`), so it is fetched after the join.
 */
export const serverConfigSchema = z.object({
  iceServers: z
    .array(
      z.object({
        urls: z.union([z.string().min(1).max(512), z.array(z.string().min(1).max(512)).min(1).max(16)]),
        username: z.string().max(512).optional(),
        credential: z.string().max(512).optional(),
      }),
    )
    .max(16),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** The fetch subset used here (the global fetch in browsers and Node 20). */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** The directory session that entitles a peer to TURN credentials. */
export interface ConfigSession {
  readonly peerId: string;
  readonly sessionToken: string;
}

export type ServerConfigErrorCode = "config_unreachable" | "config_http_error" | "config_invalid";

export class ServerConfigError extends CodedError<ServerConfigErrorCode> {
  override readonly name = "ServerConfigError";
}

export async function fetchServerConfig(
  origin: string,
  fetchImpl: FetchLike,
  session: ConfigSession | null,
): Promise<ServerConfig> {
  const url = new URL("/api/v1/config", origin).toString();
  const headers: Record<string, string> = session
    ? { Authorization: `Bearer ${session.peerId}.${session.sessionToken}` }
    : {};
  let response;
  try {
    response = await fetchImpl(url, { headers });
  } catch (error) {
    throw new ServerConfigError("config_unreachable", `GET ${url} failed: ${String(error)}`);
  }
  if (!response.ok)
    throw new ServerConfigError("config_http_error", `GET ${url} answered HTTP ${response.status}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new ServerConfigError("config_invalid", `GET ${url} did not return JSON`);
  }
  const parsed = serverConfigSchema.safeParse(json);
  if (!parsed.success)
    throw new ServerConfigError("config_invalid", `GET ${url}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
