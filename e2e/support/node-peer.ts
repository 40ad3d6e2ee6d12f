import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/open-swarm.mjs", import.meta.url));

/** A headless peer: `open-swarm <command>` as a child process, with its own identity file. */
export interface NodePeer {
  readonly process: ChildProcess;
  /** stderr and stdout lines so far. */
  readonly lines: string[];
  /** Resolves with the first line (already seen or to come) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
  kill(): void;
}

/** Every Node peer started and not exited yet: a test that fails while starting several (a Promise.all
 *  that rejects on the first) still gets all of them killed (killNodePeers), so none lingers in the
 *  directory for the next test to recruit. */
const live = new Set<NodePeer>();
process.once("exit", () => killNodePeers());

/** SIGKILLs every Node peer still running (an afterEach's safety net). */
export function killNodePeers(): void {
  for (const peer of [...live]) peer.kill();
}

/** How long a Node peer may take to join: its start (tsx, wasm, WebRTC) took over 30 s at load 25. */
const JOIN_TIMEOUT_MS = 120_000;

/**
 * `env`: added to this process's environment (e.g. OPEN_SWARM_TEST_MODE=1 for a test-only fault).
 * `identity`: a file kept across runs (a requester that resumes is the same peer); default: a new one.
 */
export function startNodePeer(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  options: { identity?: string } = {},
): NodePeer {
  const dir = mkdtempSync(path.join(tmpdir(), "open-swarm-node-peer-"));
  const identity = options.identity ?? path.join(dir, "identity.json");
  const child = spawn(process.execPath, [BIN, ...args, "--identity", identity], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onText = (chunk: Buffer): void => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(line);
      if (process.env["OPEN_SWARM_E2E_VERBOSE"]) console.log(`[node peer] ${line}`);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout.on("data", onText);
  child.stderr.on("data", onText);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      live.delete(peer);
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const peer: NodePeer = {
    process: child,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${pattern} in ${timeoutMs} ms:\n${lines.join("\n")}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
  live.add(peer);
  return peer;
}

/** Starts `open-swarm volunteer` and waits until it joined; returns it with its peer id. */
export async function startNodeVolunteer(
  baseUrl: string,
  extra: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<NodePeer & { peerId: string }> {
  const peer = startNodePeer(["volunteer", "--server", baseUrl, ...extra], env);
  const joined = await peer.waitForLine(/^joined .* as (os[0-9a-f]+)$/, JOIN_TIMEOUT_MS);
  return Object.assign(peer, { peerId: /as (os[0-9a-f]+)$/.exec(joined)![1]! });
}
