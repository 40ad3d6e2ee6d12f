import { FASHION_MNIST_CLASSES } from "../../../core/protocol/manifest.ts";
import type { ClassifyJobView, ExpertsJobPhase } from "../../../state/experts/index.ts";
import { useSwarm } from "../../hooks/use-swarm.ts";
import { Bars } from "./Bars.tsx";
import { sourceLabel } from "./source-label.ts";
import { RevisedJobs, RevisedNotice } from "./RevisedNotice.tsx";
import { PredictionPages } from "./PredictionPages.tsx";
import { Thumbnail } from "./Thumbnail.tsx";
import { useExperts } from "../../hooks/use-experts.ts";

export const PHASE_TEXT: Readonly<Record<ExpertsJobPhase, string>> = {
  "loading-inputs": "Loading the inputs…",
  "loading-models": "Loading the models…",
  "waiting-for-hosts": "Asking volunteers to host the experts…",
  running: "Classifying…",
  done: "Done",
  failed: "Failed",
};

/** The classify job: progress while it runs; accuracy, a quick look, the routing and who computed what. */
export function ClassifyResults() {
  const job = useExperts((s) => s.classify);
  const classes = useExperts((s) => s.manifest.classes);
  if (!job) return null;
  const names = classes.length === 10 ? classes : FASHION_MNIST_CLASSES;
  return (
    <div data-testid="classify-job" data-phase={job.phase} data-job-id={job.id}>
      <RevisedJobs shownId={job.id} />
      <h3>
        {job.description} · <span data-testid="classify-phase">{PHASE_TEXT[job.phase]}</span>
      </h3>
      {job.phase !== "failed" && (
        <progress
          value={job.rows === 0 ? 0 : job.rowsDone / job.rows}
          max={1}
          aria-label="classify progress"
          data-testid="classify-progress"
        />
      )}
      <p className="muted" style={{ margin: "4px 0" }}>
        {job.rowsDone} / {job.rows || "…"} images
        {job.elapsedMs !== null && ` · ${(job.elapsedMs / 1000).toFixed(1)} s`}
        {job.elapsedMs !== null &&
          job.phase === "done" &&
          ` · ${Math.round(job.rows / (job.elapsedMs / 1000))} images/s`}
        {job.gateMs !== null && ` · gate ${job.gateMs.toFixed(0)} ms`}
      </p>
      {job.error && (
        <p className="error" role="alert" data-testid="classify-error" data-code={job.error.code}>
          {job.error.message}
        </p>
      )}
      {job.phase === "done" && <Done job={job} names={names} />}
    </div>
  );
}

function Done({ job, names }: { job: ClassifyJobView; names: readonly string[] }) {
  const reference = useExperts((s) => s.manifest.accuracy);
  return (
    <div className="stack" data-testid="classify-results">
      <RevisedNotice revised={job.revised} />
      {job.accuracy !== null ? (
        <div>
          <span className="big-number" data-testid="classify-accuracy" data-value={job.accuracy}>
            {(job.accuracy * 100).toFixed(1)} %
          </span>{" "}
          <span className="muted">
            correct ({job.correct} of {job.rows})
            {reference &&
              ` · the int8 model measured ${(reference.int8 * 100).toFixed(1)} % on all ${reference.testImages} test images`}
          </span>
        </div>
      ) : (
        <p className="muted">No labels for these images: accuracy is not known.</p>
      )}
      {job.invertedCount > 0 && (
        <p className="muted" data-testid="classify-inverted">
          {job.invertedCount} image{job.invertedCount === 1 ? " was" : "s were"} inverted (dark on a light
          background; Fashion-MNIST is light on black).
        </p>
      )}
      <div className="thumb-grid" data-testid="classify-grid">
        {job.previews.map((p) => {
          const wrong = p.label !== null && p.predicted !== p.label;
          return (
            <figure
              key={p.index}
              className={`thumb${wrong ? " wrong" : ""}`}
              data-testid="classify-thumb"
              data-predicted={p.predicted ?? ""}
              data-label={p.label ?? ""}
              title={p.name}
            >
              <Thumbnail pixels={p.pixels} />
              <figcaption>
                <strong>{p.predicted === null ? "?" : names[p.predicted]}</strong>
                {p.label !== null && <span className="muted">{wrong ? `is ${names[p.label]}` : "✓"}</span>}
              </figcaption>
            </figure>
          );
        })}
      </div>
      <div className="grid">
        <RoutingHistogram job={job} />
        <VolunteerShares rowsBySource={job.rowsBySource} />
      </div>
      <PredictionPages job={job} names={names} />
    </div>
  );
}

function RoutingHistogram({ job }: { job: ClassifyJobView }) {
  const total = job.rowsPerExpert.reduce((a, b) => a + b, 0);
  return (
    <section>
      <h3>Routing: images sent to each expert</h3>
      <Bars
        testId="routing-histogram"
        itemTestId="routing-bar"
        items={job.rowsPerExpert.map((rows, e) => ({
          key: String(e),
          label: `expert ${e}`,
          value: rows,
          text: `${rows} (${total === 0 ? 0 : Math.round((100 * rows) / total)} %)`,
          title: `${rows} images routed to expert ${e}; ${job.chosenPerExpert[e] ?? 0} chose it in their top-k`,
        }))}
      />
    </section>
  );
}

function VolunteerShares({ rowsBySource }: { rowsBySource: Readonly<Record<string, number>> }) {
  const selfId = useSwarm((s) => s.self?.peerId ?? null);
  const entries = Object.entries(rowsBySource).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((a, [, n]) => a + n, 0);
  return (
    <section>
      <h3>Who computed the expert rows</h3>
      <Bars
        testId="volunteer-shares"
        itemTestId="volunteer-share"
        items={entries.map(([source, rows]) => ({
          key: source,
          label: sourceLabel(source, selfId),
          value: rows,
          text: `${total === 0 ? 0 : Math.round((100 * rows) / total)} % · ${rows}`,
          title: source === "local" ? "this tab's own runner: canaries, arbitration and fallback" : source,
        }))}
      />
    </section>
  );
}
