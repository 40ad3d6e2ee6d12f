import { useState, type FormEvent } from "react";
import { useStore } from "zustand";
import type { LocalSolveStore } from "../../../state/solve/index.ts";

const PLACEHOLDER = `1 1 4.5     ← a₁₁ = 4.5 (row column value)
7 0.25      ← b₇ = 0.25 (index value)`;

/**
 * "Update entries": change entries of A and b, 1-based like Matrix Market. While the solve runs they are
 * applied to it at its next iteration (warm, from the current x); after it finished, the worker re-solves
 * warm from the last x. The log says what happened to each batch; the summary shows the iterations saved.
 */
export function UpdateEntries({ store }: { store: LocalSolveStore }) {
  const state = useStore(store);
  const [text, setText] = useState("");
  const [mode, setMode] = useState<"set" | "add">("set");
  const canUpdate = state.status === "running" || state.summary !== null;
  if (!canUpdate) return null;
  const running = state.status === "running";
  // Known once the worker reported the system: a backend without a live hook (WebGPU) queues updates.
  const queued = running && state.n !== null && !state.liveUpdates;

  function submit(event: FormEvent) {
    event.preventDefault();
    void store.getState().applyUpdate(text, mode);
  }

  return (
    <form className="card" onSubmit={submit} data-testid="update-entries">
      <h3>Update entries</h3>
      <p className="muted">
        One per line, 1-based: <code>i j value</code> for A, <code>i value</code> for b
        {state.n !== null ? ` (n = ${state.n.toLocaleString()})` : ""}.{" "}
        {running
          ? state.liveUpdates
            ? "Applied to the running solve at its next iteration, continuing from the current x."
            : "This backend takes no live updates: applied by a warm re-solve when the solve ends."
          : "Re-solved warm from the last x."}
      </p>
      <textarea
        aria-label="update entries"
        rows={4}
        cols={40}
        value={text}
        placeholder={PLACEHOLDER}
        onChange={(e) => setText(e.target.value)}
      />
      <div className="row">
        <label>
          <input type="radio" name="update-mode" checked={mode === "set"} onChange={() => setMode("set")} />{" "}
          replace
        </label>
        <label>
          <input type="radio" name="update-mode" checked={mode === "add"} onChange={() => setMode("add")} />{" "}
          add
        </label>
        <label>
          <input
            type="checkbox"
            checked={state.compareCold}
            onChange={(e) => state.setCompareCold(e.target.checked)}
          />{" "}
          also solve cold to count iterations saved
        </label>
        <button type="submit">
          {!running ? "Apply and re-run warm" : queued ? "Queue for after the run" : "Apply live"}
        </button>
      </div>
      {state.updateError && (
        <p className="error" role="alert" data-testid="update-error">
          {state.updateError.code}: {state.updateError.message}
        </p>
      )}
      {state.updateLog.length > 0 && (
        <ul data-testid="update-log">
          {state.updateLog.map((e) => (
            <li key={e.seq} data-status={e.status}>
              #{e.seq} {e.what}: {e.status}
              {e.message ? ` — ${e.message}` : ""}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
