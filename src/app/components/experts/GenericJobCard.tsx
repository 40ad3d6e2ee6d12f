import { useState, type FormEvent } from "react";
import { MAX_BATCH_FILE_BYTES, MAX_MODEL_FILE_BYTES } from "../../../state/experts/index.ts";
import { formatBytes } from "../../format.ts";
import { useSwarm } from "../../hooks/use-swarm.ts";
import { PHASE_TEXT } from "./ClassifyResults.tsx";
import { downloadOutputNpy, downloadOutputsJson, stemOf } from "./downloads.ts";
import { RevisedNotice } from "./RevisedNotice.tsx";
import { sourceLabel } from "./source-label.ts";
import { useExperts } from "../../hooks/use-experts.ts";

/** Any ONNX model (one float32 input [rows, ...]) on an uploaded batch, sharded across the volunteers;
 *  every output downloadable. */
export function GenericJobCard() {
  const job = useExperts((s) => s.generic);
  const actions = useExperts((s) => s.actions);
  const [model, setModel] = useState<File | null>(null);
  const [batch, setBatch] = useState<File | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const busy = job !== null && job.phase !== "done" && job.phase !== "failed";

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    setFormError(null);
    if (!model || !batch) {
      setFormError("choose a model (.onnx) and an input batch (.json or .npy)");
      return;
    }
    void actions
      .runGeneric(model, batch)
      .catch((e: unknown) => setFormError(String(e instanceof Error ? e.message : e)));
  }

  return (
    <section className="card" data-testid="generic-job">
      <h2>Run any ONNX model</h2>
      <p className="muted" style={{ marginTop: 0 }}>
        A model with one float32 input <span className="mono">[rows, …]</span> and a batch as JSON{" "}
        <span className="mono">{'{"shape": [rows, …], "data": [...]}'}</span> or a NumPy{" "}
        <span className="mono">.npy</span> (float32, float64 or uint8). Up to{" "}
        {formatBytes(MAX_MODEL_FILE_BYTES)} per model and {formatBytes(MAX_BATCH_FILE_BYTES)} per batch. The
        model is sent to the connected volunteers (each checks its SHA-256) and the rows go to them in
        batches, this tab's own volunteer included. A few rows of each batch are computed here too and mixed
        in as canaries, new volunteers' batches are replicated, and a batch a volunteer fails or gets wrong is
        computed here: no row is dropped. Alone, this tab computes everything itself.
      </p>
      <form onSubmit={onSubmit} data-testid="generic-form">
        <div className="row">
          <label>
            model (.onnx)
            <br />
            <input
              type="file"
              accept=".onnx,application/octet-stream"
              data-testid="generic-model-file"
              onChange={(e) => setModel(e.target.files?.[0] ?? null)}
            />
          </label>
          <label>
            input batch (.json or .npy)
            <br />
            <input
              type="file"
              accept=".json,.npy,application/json,application/octet-stream"
              data-testid="generic-batch-file"
              onChange={(e) => setBatch(e.target.files?.[0] ?? null)}
            />
          </label>
        </div>
        <div className="row" style={{ marginTop: 12 }}>
          <button type="submit" className="primary" disabled={busy} data-testid="generic-run">
            {busy ? "Running…" : "Run model"}
          </button>
        </div>
        {formError && (
          <p className="error" role="alert" data-testid="generic-form-error">
            {formError}
          </p>
        )}
      </form>
      {job && (
        <div data-testid="generic-result" data-phase={job.phase} style={{ marginTop: 12 }}>
          <h3>
            {job.modelName} on {job.inputName}
            {job.inputShape.length > 0 && <span className="mono"> [{job.inputShape.join(", ")}]</span>} ·{" "}
            <span data-testid="generic-phase">{PHASE_TEXT[job.phase]}</span>
          </h3>
          {job.phase !== "failed" && (
            <progress
              value={job.rows === 0 ? 0 : job.rowsDone / job.rows}
              max={1}
              data-testid="generic-progress"
            />
          )}
          {job.error && (
            <p className="error" role="alert" data-testid="generic-error" data-code={job.error.code}>
              {job.error.message}
            </p>
          )}
          {job.phase === "done" && <GenericDownloads />}
        </div>
      )}
    </section>
  );
}

function GenericDownloads() {
  const job = useExperts((s) => s.generic)!;
  const outputsOf = useExperts((s) => s.actions.genericOutputs);
  const stem = stemOf(job.modelName);
  const outputs = outputsOf();
  if (!outputs) return <p className="muted">The outputs are no longer held.</p>;
  return (
    <div>
      <p className="muted">
        {job.rows} rows in {((job.elapsedMs ?? 0) / 1000).toFixed(2)} s (
        {job.mode === "local" ? "all in this tab" : "across the swarm"}) · sha256{" "}
        <span className="mono">{job.modelSha256.slice(0, 16)}…</span>
      </p>
      <RevisedNotice revised={job.revised} />
      <GenericShares rowsBySource={job.rowsBySource} />
      <div className="row">
        {job.outputs.map((o) => {
          const data = outputs.get(o.name);
          return (
            <button
              key={o.name}
              type="button"
              data-testid="generic-download-npy"
              data-output={o.name}
              disabled={!data}
              onClick={() => data && downloadOutputNpy(stem, o.name, data.data, data.cols)}
            >
              {o.name} [{job.rows}, {o.cols}] (.npy)
            </button>
          );
        })}
        <button
          type="button"
          data-testid="generic-download-json"
          onClick={() =>
            downloadOutputsJson(
              stem,
              { model: job.modelName, sha256: job.modelSha256, input_shape: job.inputShape },
              outputs,
            )
          }
        >
          all outputs (.json)
        </button>
      </div>
    </div>
  );
}

/** Rows accepted from each source, largest first. */
function GenericShares({ rowsBySource }: { rowsBySource: Readonly<Record<string, number>> }) {
  const selfId = useSwarm((s) => s.self?.peerId ?? null);
  const entries = Object.entries(rowsBySource).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return null;
  return (
    <p className="muted" data-testid="generic-shares">
      Rows computed by:{" "}
      {entries.map(([source, rows], i) => (
        <span key={source} data-testid="generic-share" data-source={source}>
          {i > 0 ? " · " : ""}
          {sourceLabel(source, selfId)} {rows}
        </span>
      ))}
    </p>
  );
}
