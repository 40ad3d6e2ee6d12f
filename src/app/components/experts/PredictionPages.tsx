import { useState } from "react";
import { previewPixels, type ClassifyJobView } from "../../../state/experts/index.ts";
import { saveFile } from "../../save-file.ts";
import { predictionsCsv } from "./predictions-csv.ts";
import { Thumbnail } from "./Thumbnail.tsx";

const PAGE_SIZE = 48;

/** Every image of a finished classify job, a page at a time (all, or only the wrong ones), and a CSV of all. */
export function PredictionPages({ job, names }: { job: ClassifyJobView; names: readonly string[] }) {
  const [onlyWrong, setOnlyWrong] = useState(false);
  const [page, setPage] = useState(0);
  const { predictions, labels, images } = job;
  if (!predictions || !images) return null;
  const rows =
    onlyWrong && labels ? indicesWhere(predictions.length, (i) => predictions[i] !== labels[i]) : null;
  const count = rows?.length ?? predictions.length;
  const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = Array.from(
    { length: Math.min(PAGE_SIZE, count - current * PAGE_SIZE) },
    (_, k) => rows?.[current * PAGE_SIZE + k] ?? current * PAGE_SIZE + k,
  );
  return (
    <section data-testid="prediction-pages" data-page={current + 1} data-pages={pages}>
      <h3>All predictions</h3>
      <div className="row" style={{ flexWrap: "wrap", gap: 12, alignItems: "center" }}>
        <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
          Previous
        </button>
        <span data-testid="prediction-page-label">
          page {current + 1} of {pages} ({count} image{count === 1 ? "" : "s"})
        </span>
        <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
          Next
        </button>
        {labels && (
          <label>
            <input
              type="checkbox"
              checked={onlyWrong}
              onChange={(e) => {
                setOnlyWrong(e.target.checked);
                setPage(0);
              }}
            />{" "}
            only the wrong ones
          </label>
        )}
        <button
          type="button"
          data-testid="download-predictions"
          onClick={() =>
            saveFile("predictions.csv", predictionsCsv(predictions, labels, images.names, names), "text/csv")
          }
        >
          Download all predictions (.csv)
        </button>
      </div>
      <div className="thumb-grid" data-testid="prediction-grid">
        {shown.map((i) => {
          const predicted = predictions[i]!;
          const label = labels ? labels[i]! : null;
          const wrong = label !== null && predicted !== label;
          return (
            <figure
              key={i}
              className={`thumb${wrong ? " wrong" : ""}`}
              data-testid="prediction-thumb"
              data-index={i}
              title={images.names[i] ?? `#${i}`}
            >
              <Thumbnail pixels={previewPixels(images.pixels, i)} />
              <figcaption>
                <strong>{names[predicted] ?? "?"}</strong>
                {label !== null && <span className="muted">{wrong ? `is ${names[label]}` : "✓"}</span>}
              </figcaption>
            </figure>
          );
        })}
      </div>
    </section>
  );
}

function indicesWhere(n: number, keep: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep(i)) out.push(i);
  return out;
}
