import { constants } from "node:fs";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { z } from "zod";
import type { IdentityRow, IdentityStore } from "../core/identity/keystore.ts";
import { identityFromKeyPair } from "../core/identity/identity.ts";

/**
 * A Node peer's identity kept in a file (the browser keeps it in IndexedDB): an Ed25519 key as JWK, mode
 * 0600. A file anyone else on the machine can read is refused, never silently used: whoever reads it can
 * be this peer. The private key is imported non-extractable once read, as in a tab.
 */
export function defaultIdentityPath(): string {
  return path.join(homedir(), ".open-swarm", "identity.json");
}

const ED25519 = { name: "Ed25519" } as const;

const fileSchema = z.object({
  version: z.literal(1),
  peerId: z.string().max(64),
  createdAtMs: z.number(),
  privateKey: z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string(), d: z.string() }),
});

type IdentityFile = z.infer<typeof fileSchema>;

export class IdentityFileError extends Error {
  override readonly name = "IdentityFileError";
}

async function importPair(jwk: IdentityFile["privateKey"]): Promise<CryptoKeyPair> {
  const privateKey = await crypto.subtle.importKey("jwk", { ...jwk }, ED25519, false, ["sign"]);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: jwk.x },
    ED25519,
    true,
    ["verify"],
  );
  return { privateKey, publicKey };
}

export class FileIdentityStore implements IdentityStore {
  constructor(readonly file: string = defaultIdentityPath()) {}

  async get(id: string): Promise<IdentityRow | undefined> {
    let info;
    try {
      info = await stat(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    // Owner-only: group or world bits on a private key mean someone else may already hold it.
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8);
      throw new IdentityFileError(
        `refusing the identity file ${this.file}: its mode is ${mode}, readable by others (chmod 600 it, or make a new one)`,
      );
    }
    const text = await readFile(this.file, "utf8");
    let parsed;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new IdentityFileError(`the identity file ${this.file} is not valid: ${String(error)}`);
    }
    return {
      id,
      keyPair: await importPair(parsed.privateKey),
      peerId: parsed.peerId,
      createdAtMs: parsed.createdAtMs,
    };
  }

  /**
   * The key in `row` is non-extractable (keystore.ts makes it so), so a new extractable key is written
   * instead; the keystore then uses the kept pair, as it does when another tab won the race. O_EXCL makes
   * the write atomic against a second process starting at the same moment: the loser reads the winner's.
   */
  async addIfAbsent(row: IdentityRow): Promise<CryptoKeyPair> {
    const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const identity = await identityFromKeyPair(pair);
    const content: IdentityFile = {
      version: 1,
      peerId: identity.peerId,
      createdAtMs: row.createdAtMs,
      privateKey: { kty: "OKP", crv: "Ed25519", x: jwk.x ?? "", d: jwk.d ?? "" },
    };
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    let handle;
    try {
      handle = await open(this.file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const kept = await this.get(row.id);
      if (!kept) throw new IdentityFileError(`the identity file ${this.file} vanished while being created`);
      return kept.keyPair;
    }
    try {
      await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    } finally {
      await handle.close();
    }
    return (await this.get(row.id))?.keyPair ?? pair;
  }
}
