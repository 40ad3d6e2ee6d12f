import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ModelByteCache } from "../core/experts/models/index.ts";

const DIGEST = /^[0-9a-f]{64}$/;

/**
 * A Node expert host's model bytes on disk, one file per sha256 (what the Cache API is to a tab: content
 * addressed, survives restarts). Nothing here is trusted: core's loadVerifiedModel digests what it reads
 * back before use and deletes a file whose bytes no longer match, and puts bytes here only after they
 * matched their digest and opened. A write goes to a temporary name first, so a crash never leaves half a
 * model under a digest's name.
 */
export class FileModelCache implements ModelByteCache {
  constructor(readonly dir: string) {}

  async get(sha256: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.file(sha256)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(sha256);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, bytes, { mode: 0o600 });
    await rename(temporary, file);
  }

  async delete(sha256: string): Promise<boolean> {
    const file = this.file(sha256);
    const had = await stat(file).then(
      () => true,
      () => false,
    );
    await rm(file, { force: true });
    return had;
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => DIGEST.test(name));
    } catch {
      return [];
    }
  }

  private file(sha256: string): string {
    if (!DIGEST.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
    return path.join(this.dir, sha256);
  }
}
