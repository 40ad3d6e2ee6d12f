/**
 * TEST-ONLY: a HostRunner whose sessions live in a child process (ort-child.ts), the Node stand-in for the
 * browser's disposable expert worker: dispose() kills it (SIGKILL), mid-run or not, as the browser
 * terminates a worker. `killed` says it happened.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { HostRunner } from "../../../src/core/experts/host/types.ts";
import {
  ExpertError,
  type ExpertErrorCode,
  type LoadedModel,
  type ModelSource,
  type RunOutput,
} from "../../../src/core/experts/models/index.ts";

const CHILD = fileURLToPath(new URL("./ort-child.ts", import.meta.url));

type Answer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; code: ExpertErrorCode; message: string }
  | { ready: true };

export class OrtChildRunner implements HostRunner {
  readonly provider = "cpu" as const;
  readonly #child: ChildProcess;
  readonly #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #ready: Promise<void>;
  #next = 0;
  killed = false;

  constructor(modelsDir: string) {
    this.#child = fork(CHILD, [modelsDir], {
      execArgv: ["--import", "tsx"],
      serialization: "advanced", // typed arrays cross as such
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let ready: () => void = () => undefined;
    this.#ready = new Promise((r) => (ready = r));
    this.#child.on("message", (m: Answer) => {
      if ("ready" in m) return ready();
      const call = this.#calls.get(m.id);
      this.#calls.delete(m.id);
      if (m.ok) call?.resolve(m.value);
      else call?.reject(new ExpertError(m.code, m.message));
    });
    this.#child.on("exit", () => {
      for (const call of this.#calls.values())
        call.reject(new ExpertError("unavailable", "the child exited"));
      this.#calls.clear();
    });
  }

  load(source: ModelSource): Promise<LoadedModel> {
    return this.#call("load", [source]) as Promise<LoadedModel>;
  }

  run(sha256: string, input: Float32Array, rows: number): Promise<RunOutput> {
    return this.#call("run", [sha256, input, rows]) as Promise<RunOutput>;
  }

  async unload(sha256: string): Promise<void> {
    await this.#call("unload", [sha256]);
  }

  dispose(): void {
    if (this.killed) return;
    this.killed = true;
    this.#child.kill("SIGKILL");
  }

  /** Resolves once the process is gone. */
  exited(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.#child.once("exit", () => r()));
  }

  async #call(op: string, args: unknown[]): Promise<unknown> {
    if (this.killed) throw new ExpertError("unavailable", "the runner was disposed");
    await this.#ready;
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#child.send({ id, op, args });
    });
  }
}
