import { useEffect } from "react";
import { formatBytes } from "../format.ts";
import { ClassifyForm } from "../components/experts/ClassifyForm.tsx";
import { ClassifyResults } from "../components/experts/ClassifyResults.tsx";
import { GenericJobCard } from "../components/experts/GenericJobCard.tsx";
import { RouterHostTable } from "../components/experts/RouterHostTable.tsx";
import { useExperts, useHasExperts } from "../hooks/use-experts.ts";

/**
 * The requester's mixture-of-experts view: classify images through experts hosted by volunteers, see how
 * the gate routed them and who computed what; run any ONNX model on a batch.
 */
export function ExpertsPage() {
  const hasExperts = useHasExperts();
  const prefetch = useExperts((s) => s.actions.prefetch);
  // Opening the view is the sign a job may follow: volunteers start loading their experts now.
  useEffect(() => {
    if (hasExperts) prefetch();
  }, [hasExperts, prefetch]);
  if (!hasExperts) {
    return <p className="muted">The experts runtime is not part of this page.</p>;
  }
  return (
    <div className="stack" data-testid="experts-page">
      <section className="card" data-testid="classify-card">
        <h2>Classify images (mixture of experts)</h2>
        <ModelSummary />
        <ClassifyForm />
        <ClassifyResults />
      </section>
      <section className="card">
        <h2>Expert hosts, as this tab's router sees them</h2>
        <RouterHostTable />
      </section>
      <GenericJobCard />
    </div>
  );
}

function ModelSummary() {
  const manifest = useExperts((s) => s.manifest);
  if (manifest.status === "loading") return <p className="muted">Loading the model manifest…</p>;
  if (manifest.status !== "ready") {
    return (
      <p className="error" role="alert" data-testid="experts-manifest-error" data-status={manifest.status}>
        {manifest.error}
      </p>
    );
  }
  return (
    <p className="muted" style={{ marginTop: 0 }} data-testid="experts-manifest">
      A small gate picks the top {manifest.topK} of {manifest.experts} expert networks for each 28×28 image;
      the experts run on volunteers (int8, {formatBytes(manifest.expertBytes)} each), this tab runs the gate,
      checks canary rows and combines the answers.
      {manifest.accuracy &&
        ` Measured on ${manifest.accuracy.testImages} test images: ${(manifest.accuracy.int8 * 100).toFixed(1)} % (int8), ${(manifest.accuracy.fp32 * 100).toFixed(1)} % (fp32).`}
    </p>
  );
}
