import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/main.ts";
import type { CliIo } from "../../../src/cli/io.ts";

/** Runs `open-swarm ...args` in this process; no server is reachable at the URL, none is needed. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
  };
  const code = await runCli(["node", "open-swarm", ...args], io);
  return { code, stdout, stderr };
}

const SERVER = ["--server", "http://127.0.0.1:9", "--json"];

describe("open-swarm submit --distribute: options refused before joining", () => {
  it("refuses fewer than 2 or more than 64 blocks", async () => {
    for (const k of ["1", "65", "2.5", "two"]) {
      const r = await run(["submit", "poisson2d-10", "--distribute", k, ...SERVER]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout.trim())).toMatchObject({ error: { code: "invalid_option" } });
      expect(r.stderr).toMatch(/from 2 to 64/);
    }
  });

  it("refuses several right-hand sides (a distributed solve takes one)", async () => {
    const r = await run(["submit", "poisson2d-10", "--distribute", "2", "--random-rhs", "3", ...SERVER]);
    expect(r.code).toBe(1);
    const error = (JSON.parse(r.stdout.trim()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("invalid_option");
    expect(error.message).toMatch(/one right-hand side, not 3/);
  });
});
