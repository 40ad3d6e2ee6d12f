import { useState, type FormEvent } from "react";
import { type ClassifyFilesOptions, MAX_CLASSIFY_ROWS } from "../../../state/experts/index.ts";
import { useExperts } from "../../hooks/use-experts.ts";
import { useSwarm } from "../../hooks/use-swarm.ts";
import { volunteerReadiness } from "./volunteer-readiness.ts";

const DEFAULT_COUNT = 1000;
const running = (phase: string | undefined): boolean =>
  phase !== undefined && phase !== "done" && phase !== "failed";

/** Choose what to classify: the first N images of the bundled test set, or uploaded PNG/JPEG/IDX files. */
export function ClassifyForm() {
  const actions = useExperts((s) => s.actions);
  const phase = useExperts((s) => s.classify?.phase);
  const manifestReady = useExperts((s) => s.manifest.status === "ready");
  const hosts = useExperts((s) => s.router?.hosts ?? null);
  const selfId = useSwarm((s) => s.self?.peerId ?? null);
  const readiness = volunteerReadiness(hosts, selfId);
  const [source, setSource] = useState<"test-set" | "upload">("test-set");
  const [count, setCount] = useState(String(DEFAULT_COUNT));
  const [files, setFiles] = useState<File[]>([]);
  const [invert, setInvert] = useState<ClassifyFilesOptions["invert"]>("auto");
  const [formError, setFormError] = useState<string | null>(null);
  const busy = running(phase);
  const n = Number(count);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    setFormError(null);
    if (source === "test-set") {
      if (!Number.isInteger(n) || n < 1 || n > MAX_CLASSIFY_ROWS) {
        setFormError(`choose between 1 and ${MAX_CLASSIFY_ROWS} images`);
        return;
      }
      void actions
        .classifyTestSet(n)
        .catch((e: unknown) => setFormError(String(e instanceof Error ? e.message : e)));
    } else {
      if (files.length === 0) {
        setFormError("choose at least one PNG/JPEG image or IDX file");
        return;
      }
      void actions
        .classifyFiles(files, { invert })
        .catch((e: unknown) => setFormError(String(e instanceof Error ? e.message : e)));
    }
  }

  return (
    <form onSubmit={onSubmit} data-testid="classify-form">
      <div className="row">
        <label className="inline">
          <input
            type="radio"
            name="classify-source"
            data-testid="classify-source-test"
            checked={source === "test-set"}
            onChange={() => setSource("test-set")}
          />
          Fashion-MNIST test images
        </label>
        <label className="inline">
          <input
            type="radio"
            name="classify-source"
            data-testid="classify-source-upload"
            checked={source === "upload"}
            onChange={() => setSource("upload")}
          />
          my own files (PNG, JPEG, IDX)
        </label>
      </div>
      {source === "test-set" ? (
        <div className="row" style={{ alignItems: "center" }}>
          <input
            type="range"
            min={1}
            max={MAX_CLASSIFY_ROWS}
            step={1}
            value={Number.isFinite(n) ? Math.min(MAX_CLASSIFY_ROWS, Math.max(1, n)) : DEFAULT_COUNT}
            aria-label="number of test images (slider)"
            data-testid="classify-count-range"
            onChange={(e) => setCount(e.target.value)}
          />
          <input
            type="number"
            min={1}
            max={MAX_CLASSIFY_ROWS}
            value={count}
            aria-label="number of test images"
            data-testid="classify-count"
            onChange={(e) => setCount(e.target.value)}
            style={{ width: 90 }}
          />
          <span className="muted">of the 10,000 test images (labels known: accuracy is measured)</span>
        </div>
      ) : (
        <div className="row">
          <label>
            images or IDX files (.png, .jpg, .idx, .gz; an IDX labels file adds accuracy)
            <br />
            <input
              type="file"
              multiple
              accept="image/png,image/jpeg,image/webp,.png,.jpg,.jpeg,.webp,.gz,.idx,.idx3-ubyte,.idx1-ubyte,application/octet-stream"
              data-testid="classify-files"
              onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
            />
          </label>
          <label>
            photos of dark garments on a light background
            <br />
            <select
              aria-label="invert images"
              data-testid="classify-invert"
              value={invert}
              onChange={(e) => setInvert(e.target.value as ClassifyFilesOptions["invert"])}
            >
              <option value="auto">invert when the border is light (auto)</option>
              <option value="always">always invert</option>
              <option value="never">never invert</option>
            </select>
          </label>
        </div>
      )}
      <div className="row" style={{ marginTop: 12 }}>
        <button
          type="submit"
          className="primary"
          disabled={busy || !manifestReady}
          data-testid="classify-run"
        >
          {busy ? "Classifying…" : "Run"}
        </button>
        {!manifestReady && <span className="muted">waiting for the models…</span>}
        {manifestReady && readiness.text !== null && (
          <span
            className="muted"
            data-testid="volunteer-readiness"
            data-ready={readiness.ready}
            data-getting-ready={readiness.loading + readiness.checking}
          >
            {readiness.text}
          </span>
        )}
      </div>
      {formError && (
        <p className="error" role="alert" data-testid="classify-form-error">
          {formError}
        </p>
      )}
    </form>
  );
}
