import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * API keys and their scopes (README "HTTP API", issue 13 item 3). A key is configured as `KEY:SCOPES`, the
 * scopes joined by `+`: `OPEN_SWARM_API_KEYS=k1:submit+read,k2:admin`, or one entry a line in the file named
 * by `OPEN_SWARM_API_KEYS_FILE` (`#` starts a comment). A bad entry stops the server at startup, named.
 */
export const API_SCOPES = ["submit", "read", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Long enough that guessing is hopeless; the charset keeps keys safe in headers, env lists and files. */
const keySchema = z
  .string()
  .min(16, "the key must be at least 16 characters")
  .max(256, "the key must be at most 256 characters")
  .regex(/^[A-Za-z0-9._~-]+$/, "the key may hold only letters, digits and . _ ~ -");

const scopesSchema = z
  .string()
  .min(1, "no scopes after the ':' (use submit, read, admin joined by +)")
  .transform((s) => s.split("+"))
  .pipe(z.array(z.enum(API_SCOPES, { error: "scopes are submit, read, admin, joined by +" })).min(1));

export interface ApiKey {
  /** A short, non-secret label for logs: the first 12 hex digits of the key's SHA-256. */
  readonly id: string;
  readonly scopes: ReadonlySet<ApiScope>;
  /** SHA-256 of the key: what a presented key is compared against (never the key itself). */
  readonly digest: Buffer;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** One `KEY:SCOPES` entry; `where` names it in the error (entry 2 of OPEN_SWARM_API_KEYS, line 7 of FILE). */
function parseEntry(entry: string, where: string): ApiKey {
  const colon = entry.lastIndexOf(":");
  if (colon < 0) throw new Error(`${where}: expected KEY:SCOPES (e.g. mykey…:submit+read), got no ':'`);
  const key = keySchema.safeParse(entry.slice(0, colon));
  if (!key.success) throw new Error(`${where}: ${key.error.issues[0]?.message ?? "bad key"}`);
  const scopes = scopesSchema.safeParse(entry.slice(colon + 1));
  if (!scopes.success) {
    throw new Error(
      `${where}: ${scopes.error.issues[0]?.message ?? "bad scopes"} (got "${entry.slice(colon + 1)}")`,
    );
  }
  const digest = sha256(key.data);
  return { id: digest.toString("hex").slice(0, 12), scopes: new Set(scopes.data), digest };
}

/** The configured keys from the environment (empty when none is set); throws naming the bad entry. */
export function apiKeysFromEnv(env: NodeJS.ProcessEnv): ApiKey[] {
  const keys: ApiKey[] = [];
  const list = env["OPEN_SWARM_API_KEYS"];
  if (list !== undefined && list.trim() !== "") {
    list.split(",").forEach((entry, i) => {
      keys.push(parseEntry(entry.trim(), `OPEN_SWARM_API_KEYS entry ${i + 1}`));
    });
  }
  const file = env["OPEN_SWARM_API_KEYS_FILE"];
  if (file !== undefined && file !== "") {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new Error(`OPEN_SWARM_API_KEYS_FILE: cannot read ${file}: ${(error as Error).message}`);
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const entry = line.replace(/#.*$/, "").trim();
      if (entry !== "") keys.push(parseEntry(entry, `OPEN_SWARM_API_KEYS_FILE line ${i + 1}`));
    });
  }
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.id)) throw new Error(`API key ${key.id}… is configured twice`);
    seen.add(key.id);
  }
  return keys;
}

/** Parses `KEY:SCOPES` entries given in code (tests, embedders) the same way as the environment's. */
export function parseApiKeys(entries: readonly string[]): ApiKey[] {
  return entries.map((entry, i) => parseEntry(entry, `API key entry ${i + 1}`));
}

/**
 * The key `presented` is, or null. Both sides are SHA-256 digests of equal length, compared with
 * timingSafeEqual against EVERY configured key (no early exit), so the time taken says nothing about how
 * much of a key was right or which key matched.
 */
export function findKey(keys: readonly ApiKey[], presented: string): ApiKey | null {
  const digest = sha256(presented);
  let found: ApiKey | null = null;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && found === null) found = key;
  }
  return found;
}
