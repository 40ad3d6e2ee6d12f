/**
 * The process behind ort-child-runner.ts: an OrtNodeRunner answering { id, op, args } over IPC. Test-only:
 * the Node stand-in for the browser's disposable expert worker, so a host's time limit can really end it.
 */
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { ExpertError } from "../../../src/core/experts/models/index.ts";

const runner = new OrtNodeRunner(process.argv[2] ?? ".");

interface Call {
  readonly id: number;
  readonly op: "load" | "run" | "unload";
  readonly args: unknown[];
}

process.on("message", (call: Call) => {
  const work =
    call.op === "load"
      ? runner.load(call.args[0] as Parameters<OrtNodeRunner["load"]>[0])
      : call.op === "run"
        ? runner.run(call.args[0] as string, call.args[1] as Float32Array, call.args[2] as number)
        : runner.unload(call.args[0] as string);
  work.then(
    (value) => process.send!({ id: call.id, ok: true, value }),
    (error: unknown) =>
      process.send!({
        id: call.id,
        ok: false,
        code: error instanceof ExpertError ? error.code : "runtime_failed",
        message: error instanceof Error ? error.message : String(error),
      }),
  );
});
process.send!({ ready: true });
