import { useState, type FormEvent } from "react";
import type { BackendChoice, SolveJobOptions, SolveSource } from "../../../../workers/solver/api.ts";
import type { MethodName } from "../../../core/solver/types.ts";
import { EXAMPLES, MAX_UPLOAD_BYTES, parseSolveLimits } from "../../solve-choices.ts";
import { ExampleSelect } from "../fields/ExampleSelect.tsx";
import { MatrixMarketFileInput } from "../fields/MatrixMarketFileInput.tsx";
import { MethodField } from "../fields/MethodField.tsx";
import { SolveLimitsFields } from "../fields/SolveLimitsFields.tsx";

const BACKENDS: readonly { value: BackendChoice; label: string }[] = [
  { value: "auto", label: "auto (wasm, threads by size)" },
  { value: "wasm", label: "wasm" },
  { value: "js", label: "js (f64 reference)" },
  { value: "webgpu", label: "WebGPU (f32 + f64 refinement)" },
];

export function SolveForm({
  disabled,
  onSubmit,
}: {
  disabled: boolean;
  onSubmit: (source: SolveSource, options: SolveJobOptions) => void;
}) {
  const [sourceKind, setSourceKind] = useState<"example" | "upload">("example");
  const [example, setExample] = useState<string>(EXAMPLES[1].name);
  const [matrixFile, setMatrixFile] = useState<File | null>(null);
  const [rhsFile, setRhsFile] = useState<File | null>(null);
  const [method, setMethod] = useState<MethodName>("hybrid");
  const [backend, setBackend] = useState<BackendChoice>("auto");
  const [tol, setTol] = useState("1e-8");
  const [maxIter, setMaxIter] = useState("20000");
  const [formError, setFormError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFormError(null);
    const limits = parseSolveLimits(tol, maxIter);
    if (!limits.ok) return setFormError(limits.message);
    const options: SolveJobOptions = {
      method,
      tol: limits.tol,
      maxIter: limits.maxIter,
      backend,
      updateEvery: 10,
    };
    if (sourceKind === "example") return onSubmit({ kind: "generated", name: example }, options);
    if (!matrixFile) return setFormError("choose a Matrix Market (.mtx) file for A");
    for (const file of [matrixFile, rhsFile]) {
      if (file && file.size > MAX_UPLOAD_BYTES) return setFormError(`${file.name} is larger than 400 MiB`);
    }
    const matrixText = await matrixFile.text();
    const name = matrixFile.name.replace(/\.mtx$/i, "");
    onSubmit(
      rhsFile
        ? { kind: "matrix-market", name, matrixText, rhsText: await rhsFile.text() }
        : { kind: "matrix-market", name, matrixText },
      options,
    );
  }

  return (
    <form
      className="card"
      onSubmit={(event) => {
        // Reading the chosen files can fail (one removed or changed since it was picked): say so in the form.
        submit(event).catch((error: unknown) =>
          setFormError(error instanceof Error ? error.message : String(error)),
        );
      }}
      data-testid="solve-form"
    >
      <h2>Solve Ax = b</h2>
      <div className="row">
        <label>
          <input
            type="radio"
            name="source"
            checked={sourceKind === "example"}
            onChange={() => setSourceKind("example")}
          />{" "}
          example
        </label>
        <label>
          <input
            type="radio"
            name="source"
            checked={sourceKind === "upload"}
            onChange={() => setSourceKind("upload")}
          />{" "}
          upload .mtx
        </label>
      </div>
      {sourceKind === "example" ? (
        <ExampleSelect ariaLabel="example problem" value={example} onChange={setExample} />
      ) : (
        <div className="row">
          <label>
            A (.mtx)
            <MatrixMarketFileInput
              testId="matrix-file"
              onChange={(files) => setMatrixFile(files[0] ?? null)}
            />
          </label>
          <label>
            b (.mtx, optional: b = A·1 without it)
            <MatrixMarketFileInput testId="rhs-file" onChange={(files) => setRhsFile(files[0] ?? null)} />
          </label>
        </div>
      )}
      <div className="row">
        <MethodField label="method" ariaLabel="method" value={method} onChange={setMethod} />
        <label>
          backend
          <br />
          <select
            aria-label="backend"
            value={backend}
            onChange={(e) => setBackend(e.target.value as BackendChoice)}
          >
            {BACKENDS.map((b) => (
              <option key={b.value} value={b.value}>
                {b.label}
              </option>
            ))}
          </select>
        </label>
        <SolveLimitsFields tol={tol} maxIter={maxIter} onTol={setTol} onMaxIter={setMaxIter} />
        <button type="submit" className="primary" disabled={disabled}>
          Solve
        </button>
      </div>
      {formError && (
        <p className="error" role="alert">
          {formError}
        </p>
      )}
    </form>
  );
}
