import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ndjsonLines, post, slowRequest } from "./helpers.ts";

// SIGTERM to the real server process (api/main.ts, what `npm run serve` runs): a stream still running
// when the grace (API_DRAIN_MS) runs out ends with a solve_result that says the server is shutting down,
// names the session and says it is lost; the process then exits 0. The solve cannot finish within the
// grace on any machine (helpers.ts slowRequest), so the shutdown path is forced, not hoped for.
const root = path.resolve(import.meta.dirname, "../../..");
const staticDir = mkdtempSync(path.join(tmpdir(), "open-swarm-drain-"));
writeFileSync(path.join(staticDir, "index.html"), "<!doctype html><title>drain</title>");
let child: ChildProcess | undefined;

afterAll(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  rmSync(staticDir, { recursive: true, force: true });
});

/** Starts the server process; resolves with its base URL once it says it is running. */
function startProcess(
  env: Record<string, string>,
): Promise<{ url: string; output: () => string; exit: Promise<number | null> }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "api/main.ts"], {
    cwd: root,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", STATIC_DIR: staticDir, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let output = "";
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /running at http:\/\/localhost:(\d+)/.exec(output);
      if (match) resolve({ url: `http://127.0.0.1:${match[1]}`, output: () => output, exit });
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    void exit.then((code) => reject(new Error(`server exited (${code}) before starting:\n${output}`)));
  });
}

describe("SIGTERM", () => {
  it("ends a stream still running after the grace with a server_shutdown event, then exits 0", async () => {
    const server = await startProcess({ API_DRAIN_MS: "1000" });
    const res = await post(server.url, "/api/v1/solve-stream", slowRequest(150));
    expect(res.status).toBe(200);
    const id = res.headers.get("x-session-id")!;
    const lines = ndjsonLines(res);
    expect((await lines.next()).value).toMatchObject({ type: "iteration_update", session_id: id });

    child!.kill("SIGTERM");
    let last: Record<string, unknown> | undefined;
    for await (const line of lines) last = line;
    expect(last).toMatchObject({
      type: "solve_result",
      session_id: id,
      converged: false,
      reason: "server_shutdown",
      lost: true,
      error: { code: "server_shutdown" },
    });
    expect((last!["error"] as { message: string }).message).toContain(id);
    expect(await server.exit).toBe(0);
    expect(server.output()).toContain('"event":"api_drained"');
  }, 30_000);
});
