import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { apiConfigFromEnv } from "../../../api/config.ts";
import { apiKeysFromEnv, findKey, parseApiKeys } from "../../../api/keys.ts";

// OPEN_SWARM_API_KEYS / OPEN_SWARM_API_KEYS_FILE: parsed at startup, a bad entry named in the error.
describe("API key specs", () => {
  it("parses KEY:SCOPES lists and files (comments, blank lines) into keys with scopes", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "open-swarm-keys-"));
    const file = path.join(dir, "keys");
    writeFileSync(file, "# operators\nfile-key-0123456789:admin  # the admin\n\n");
    try {
      const keys = apiKeysFromEnv({
        OPEN_SWARM_API_KEYS: "first-key-0123456789:submit+read, second-key-012345678:read",
        OPEN_SWARM_API_KEYS_FILE: file,
      });
      expect(keys.map((k) => [...k.scopes])).toEqual([["submit", "read"], ["read"], ["admin"]]);
      expect(findKey(keys, "second-key-012345678")).toBe(keys[1]);
      expect(findKey(keys, "second-key-012345679")).toBeNull();
      expect(keys[0]!.id).toMatch(/^[0-9a-f]{12}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses bad entries, naming the entry or line and what is wrong", () => {
    const bad = (list: string): string => {
      try {
        apiKeysFromEnv({ OPEN_SWARM_API_KEYS: list });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`accepted ${list}`);
    };
    expect(bad("good-key-0123456789:read,nocolon")).toMatch(/entry 2: expected KEY:SCOPES/);
    expect(bad("short:read")).toMatch(/entry 1: the key must be at least 16/);
    expect(bad("good-key-0123456789:read+write")).toMatch(/entry 1: scopes are submit, read, admin/);
    expect(bad("good-key-0123456789:")).toMatch(/entry 1: no scopes/);
    expect(bad("good-key-0123456789:read,good-key-0123456789:admin")).toMatch(/configured twice/);
    expect(() => apiKeysFromEnv({ OPEN_SWARM_API_KEYS_FILE: "/nonexistent/keys" })).toThrow(
      /OPEN_SWARM_API_KEYS_FILE: cannot read/,
    );
    const dir = mkdtempSync(path.join(tmpdir(), "open-swarm-keys-"));
    try {
      writeFileSync(path.join(dir, "k"), "# c\nok-key-01234567890:read\nbad key with a space:read\n");
      expect(() => apiKeysFromEnv({ OPEN_SWARM_API_KEYS_FILE: path.join(dir, "k") })).toThrow(
        /OPEN_SWARM_API_KEYS_FILE line 3: .*letters, digits/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The server's own config loader carries the keys, and says API_ALLOW_REMOTE is gone.
    expect(apiConfigFromEnv({ OPEN_SWARM_API_KEYS: "good-key-0123456789:admin" }).keys).toHaveLength(1);
    expect(() => apiConfigFromEnv({ API_ALLOW_REMOTE: "1" })).toThrow(/OPEN_SWARM_API_KEYS/);
    expect(parseApiKeys(["good-key-0123456789:submit"])[0]!.scopes.has("submit")).toBe(true);
  });
});
