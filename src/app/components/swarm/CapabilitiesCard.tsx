import type { Capabilities } from "../../../core/protocol/capabilities.ts";
import { formatBytes } from "../../format.ts";

export function CapabilitiesCard({
  capabilities,
  notes,
}: {
  capabilities: Capabilities;
  notes: readonly string[];
}) {
  const gpu = capabilities.webgpu;
  return (
    <section className="card" data-testid="capabilities">
      <h2>My capabilities</h2>
      <dl className="kv">
        <dt>WebGPU</dt>
        <dd>
          {gpu
            ? `${gpu.vendor || "unknown vendor"} · ${gpu.architecture || "unknown architecture"}`
            : "no adapter"}
        </dd>
        {gpu && (
          <>
            <dt>GPU limits</dt>
            <dd>
              binding {formatBytes(gpu.maxStorageBufferBindingSize)}, buffer {formatBytes(gpu.maxBufferSize)},
              workgroup {gpu.maxComputeInvocationsPerWorkgroup}
              {gpu.shaderF16 ? ", f16" : ""}
            </dd>
          </>
        )}
        <dt>WASM</dt>
        <dd>
          SIMD {capabilities.wasm.simd ? "yes" : "no"} · threads {capabilities.wasm.threads ? "yes" : "no"}
        </dd>
        <dt>CPU cores</dt>
        <dd>{capabilities.hardwareConcurrency}</dd>
        <dt>Isolated</dt>
        <dd>{capabilities.crossOriginIsolated ? "yes (shared memory available)" : "no"}</dd>
        <dt>Benchmark</dt>
        <dd>{capabilities.benchmarkMflops.toFixed(0)} MFLOP/s (sparse matrix-vector product, JS)</dd>
      </dl>
      {notes.length > 0 && (
        <ul className="muted">
          {notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
