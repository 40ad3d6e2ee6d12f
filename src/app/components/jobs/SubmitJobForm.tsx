import { useState, type FormEvent } from "react";
import { useStore } from "zustand";
import { isCodedError } from "../../../core/base/coded-error.ts";
import { ErrorMessage } from "../ErrorMessage.tsx";
import { ExampleSelect } from "../fields/ExampleSelect.tsx";
import { MatrixMarketFileInput } from "../fields/MatrixMarketFileInput.tsx";
import { MethodField } from "../fields/MethodField.tsx";
import { SolveLimitsFields } from "../fields/SolveLimitsFields.tsx";
import { useJobs } from "../../hooks/use-jobs.ts";
import { jobFormStore, updateJobForm } from "./job-form-store.ts";
import { buildSubmission, jobKindFor, MAX_BLOCKS, MAX_RANDOM_RHS } from "./job-submission.ts";

interface FormError {
  message: string;
  code: string | null;
}

/**
 * The main flow of the Dashboard: describe a system and hand it to the swarm. Labels avoid the words the
 * local "Solve in this tab" form uses ("example", "upload .mtx", "backend") so both can share the page.
 */
export function SubmitJobForm() {
  const submit = useJobs((s) => s.actions.submit);
  const select = useJobs((s) => s.actions.select);
  const lastError = useJobs((s) => s.lastError);
  const lastErrorCode = useJobs((s) => s.lastErrorCode);
  // Kept in job-form-store.ts: the values survive leaving the page and a failed submission.
  const values = useStore(jobFormStore, (s) => s.values);
  const set = updateJobForm;
  const [formError, setFormError] = useState<FormError | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const uploadedRhs = values.source === "upload" ? values.rhsFiles.length : 0;
  const rhsCount =
    uploadedRhs > 0 ? uploadedRhs : values.rhsMode === "random" ? Number(values.randomCount) || 0 : 1;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setFormError(null);
    setSubmitting(true);
    try {
      const built = await buildSubmission(values);
      if (!built.ok) return setFormError({ message: built.message, code: null });
      const jobId = await submit(built.submission);
      select(jobId);
    } catch (error) {
      setFormError({
        message: error instanceof Error ? error.message : String(error),
        code: isCodedError(error) ? error.code : null,
      });
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <form
      className="card"
      // onSubmit reports its own failures in the form (try/catch), so its promise is not awaited.
      onSubmit={(event) => void onSubmit(event)}
      data-testid="job-form"
    >
      <h2>Submit to the swarm</h2>
      <p className="muted" style={{ marginTop: 0 }}>
        The system is split into work units that volunteers compute; every result is accepted only after this
        tab recomputes its residual in f64.
      </p>
      <div className="row">
        <label className="inline">
          <input
            type="radio"
            name="job-source"
            checked={values.source === "generated"}
            onChange={() => set({ source: "generated" })}
          />
          generated
        </label>
        <label className="inline">
          <input
            type="radio"
            name="job-source"
            data-testid="job-source-upload"
            checked={values.source === "upload"}
            onChange={() => set({ source: "upload" })}
          />
          uploaded files
        </label>
      </div>
      {values.source === "generated" ? (
        <ExampleSelect
          ariaLabel="generated system"
          testId="job-generated"
          value={values.generatedName}
          onChange={(generatedName) => set({ generatedName })}
        />
      ) : (
        <div className="row">
          <label>
            A (.mtx)
            <br />
            <MatrixMarketFileInput
              testId="job-matrix-file"
              onChange={(files) => set({ matrixFile: files[0] ?? null })}
            />
            {values.matrixFile && (
              // The form keeps its files across navigation; a fresh file input would not say so.
              <span className="muted" data-testid="job-matrix-file-name">
                {" "}
                {values.matrixFile.name}
              </span>
            )}
          </label>
          <label>
            right-hand sides (.mtx arrays, optional; several files → one solve each)
            <br />
            <MatrixMarketFileInput
              testId="job-rhs-files"
              multiple
              onChange={(rhsFiles) => set({ rhsFiles })}
            />
          </label>
        </div>
      )}
      {uploadedRhs > 0 ? (
        <p className="muted">
          {uploadedRhs} uploaded right-hand side{uploadedRhs === 1 ? "" : "s"}
        </p>
      ) : (
        <div className="row">
          <label className="inline">
            <input
              type="radio"
              name="job-rhs"
              checked={values.rhsMode === "ones"}
              onChange={() => set({ rhsMode: "ones" })}
            />
            b = A·1
          </label>
          <label className="inline">
            <input
              type="radio"
              name="job-rhs"
              data-testid="job-rhs-random"
              checked={values.rhsMode === "random"}
              onChange={() => set({ rhsMode: "random" })}
            />
            random right-hand sides:
          </label>
          <input
            type="number"
            aria-label="number of random right-hand sides"
            data-testid="job-random-count"
            min={1}
            max={MAX_RANDOM_RHS}
            value={values.randomCount}
            disabled={values.rhsMode !== "random"}
            onChange={(e) => set({ randomCount: e.target.value })}
            style={{ width: 80 }}
          />
        </div>
      )}
      <div className="row">
        <MethodField
          label="solver"
          ariaLabel="swarm solver method"
          testId="job-method"
          value={values.method}
          onChange={(method) => set({ method })}
        />
        <SolveLimitsFields
          ariaPrefix="swarm "
          testIds={{ tol: "job-tol", maxIter: "job-max-iter" }}
          tol={values.tol}
          maxIter={values.maxIter}
          onTol={(tol) => set({ tol })}
          onMaxIter={(maxIter) => set({ maxIter })}
        />
        <label>
          job name
          <br />
          <input
            type="text"
            aria-label="job name"
            data-testid="job-name"
            placeholder="from the matrix"
            value={values.name}
            onChange={(e) => set({ name: e.target.value })}
          />
        </label>
      </div>
      <div className="row">
        <label className="inline">
          <input
            type="checkbox"
            data-testid="job-distribute"
            checked={values.distribute}
            onChange={(e) => set({ distribute: e.target.checked })}
          />
          distribute across volunteers (row blocks)
        </label>
        <input
          type="number"
          aria-label="row blocks"
          data-testid="job-blocks"
          min={2}
          max={MAX_BLOCKS}
          value={values.blocks}
          disabled={!values.distribute}
          onChange={(e) => set({ blocks: e.target.value })}
          style={{ width: 70 }}
        />
      </div>
      <div className="row" style={{ marginTop: 12 }}>
        <button type="submit" className="primary" disabled={submitting} data-testid="job-submit">
          {submitting ? "Submitting…" : "Submit to the swarm"}
        </button>
        <span className="muted" data-testid="job-kind-preview">
          {jobKindFor(values.distribute, rhsCount)}
          {rhsCount > 1 ? ` · ${rhsCount} right-hand sides` : ""}
          {values.distribute ? ` · ${values.blocks} row blocks` : ""}
        </span>
      </div>
      {formError && (
        <ErrorMessage message={formError.message} code={formError.code} testId="job-form-error" />
      )}
      {lastError && lastError !== formError?.message && (
        <ErrorMessage message={lastError} code={lastErrorCode} testId="jobs-error" />
      )}
    </form>
  );
}
