/**
 * Fixtures for the generic job (ExpertRouter.runModel): an ungated model with two outputs built with
 * onnx-proto, and a swarm in one process (a gate-less router and hosts over the in-memory hub, each with
 * its own onnxruntime-node runner). The hub is a FAKE transport; every message still takes the wire's path.
 */
import onnxProto from "onnx-proto";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import type { HostFault } from "../../../src/core/experts/host/faults.ts";
import { ExpertRouter, type ExpertRouterOptions } from "../../../src/core/experts/router/index.ts";
import type { ModelSource } from "../../../src/core/experts/models/index.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { bytesSource, MODELS_DIR, seeded } from "./router-fixtures.ts";

const { onnx } = onnxProto;
const FLOAT = 1;

export const TWO_OUT_COLS = 12;
/** x [N, 12] → scores = x·W + b [N, 5], energy = Σ x² [N, 1]. */
export function twoOutputModel(seed = 3): { bytes: Uint8Array; source: ModelSource } {
  const random = seeded(seed);
  const w = Float32Array.from({ length: TWO_OUT_COLS * 5 }, () => random() * 2 - 1);
  const b = Float32Array.from({ length: 5 }, () => random() - 0.5);
  const vi = (name: string, dims: (number | string)[]) => ({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: "open-swarm-tests",
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "two-outputs",
      node: [
        { opType: "MatMul", input: ["x", "w"], output: ["m"], name: "mm" },
        { opType: "Add", input: ["m", "b"], output: ["scores"], name: "add" },
        {
          opType: "ReduceSumSquare",
          input: ["x"],
          output: ["energy"],
          name: "rss",
          attribute: [
            { name: "axes", type: 7, ints: [1] },
            { name: "keepdims", type: 2, i: 1 },
          ],
        },
      ],
      initializer: [
        { name: "w", dims: [TWO_OUT_COLS, 5], dataType: FLOAT, rawData: new Uint8Array(w.buffer.slice(0)) },
        { name: "b", dims: [5], dataType: FLOAT, rawData: new Uint8Array(b.buffer.slice(0)) },
      ],
      input: [vi("x", ["N", TWO_OUT_COLS])],
      output: [vi("scores", ["N", 5]), vi("energy", ["N", 1])],
    },
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, source: bytesSource(bytes, "two-outputs.onnx") };
}

/** The model run directly (one process, one runner): the reference for every output. */
export async function directOutputs(source: ModelSource, x: Float32Array, rows: number) {
  const runner = new OrtNodeRunner(MODELS_DIR);
  const info = await runner.load(source);
  return (await runner.run(info.sha256, x, rows)).outputs;
}

export interface GenericSwarm {
  readonly hub: MemoryExpertHub;
  readonly router: ExpertRouter;
  readonly hosts: ReadonlyMap<string, ExpertHost>;
  close(): Promise<void>;
}

/** A gate-less router on "requester" and hosts; `selfHost` gives the requester's own link a host too (the
 *  loopback, as in a tab). Peers listed in `bare` have a link but no host (e.g. a Node volunteer). */
export function genericSwarm(options: {
  hosts: readonly { id: string; fault?: HostFault }[];
  selfHost?: boolean;
  bare?: readonly string[];
  router?: Partial<ExpertRouterOptions>;
  offer?: boolean;
}): GenericSwarm {
  const hub = new MemoryExpertHub();
  const requesterLink = hub.link("requester");
  const hosts = new Map<string, ExpertHost>();
  const host = (id: string, link: ReturnType<MemoryExpertHub["link"]>, fault?: HostFault) =>
    hosts.set(
      id,
      new ExpertHost({
        link,
        runner: new OrtNodeRunner(MODELS_DIR),
        resolveManifest: () => undefined,
        allowNonManifest: true, // uploaded models: these hosts' people enabled hosting them
        ...(fault ? { fault } : {}),
      }),
    );
  if (options.selfHost) host("requester", requesterLink);
  for (const spec of options.hosts) host(spec.id, hub.link(spec.id), spec.fault);
  for (const id of options.bare ?? []) hub.link(id);
  const router = new ExpertRouter({
    link: requesterLink,
    local: new OrtNodeRunner(MODELS_DIR),
    random: seeded(17),
    ...options.router,
  });
  if (options.offer !== false) {
    router.setVolunteers([
      ...(options.selfHost ? ["requester"] : []),
      ...options.hosts.map((h) => h.id),
      ...(options.bare ?? []),
    ]);
  }
  return {
    hub,
    router,
    hosts,
    async close() {
      router.close();
      await Promise.all([...hosts.values()].map((h) => h.close()));
    },
  };
}

/** Same bits (NaN-free float32 compared as integers). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}
