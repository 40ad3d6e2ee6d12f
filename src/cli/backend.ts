import { availableParallelism } from "node:os";
import type { Kernels } from "../core/solver/kernels.ts";
import { pickKernels, type PickedKernels } from "../../kernels/pick-kernels.ts";
import { CliError } from "./cli-error.ts";

export type CliBackend = "js" | "wasm";

export interface LoadedKernels {
  kernels: Kernels;
  /** Lines for stderr: which backend was chosen and why. */
  notes: string[];
}

/** The CLI's wording of the choice, with the flags that change it. */
function cliNotes(
  picked: PickedKernels,
  choice: CliBackend | undefined,
  threads: number | undefined,
): string[] {
  const { kernels, wasmUnavailable } = picked;
  if (kernels.backend === "wasm") {
    const count = `${kernels.threads} thread${kernels.threads === 1 ? "" : "s"}`;
    const why = threads === undefined ? ` (by matrix size; --threads N to choose)` : "";
    return [`backend: wasm, ${count}${why}${choice === undefined ? "; --backend js to compare" : ""}`];
  }
  const notes = wasmUnavailable === null ? [] : [`backend: js (wasm unavailable: ${wasmUnavailable})`];
  if (threads !== undefined && threads > 1) {
    notes.push(`the js backend is single-threaded; --threads ${threads} is ignored`);
  }
  return notes;
}

/**
 * Chooses the kernels (kernels/pick-kernels.ts, with this machine's cores): `--backend js|wasm` is obeyed
 * (an unavailable wasm is a backend_unavailable error), no choice means wasm if it loads, else js.
 */
export async function loadKernels(
  choice: CliBackend | undefined,
  threads: number | undefined,
  nnz: number,
): Promise<LoadedKernels> {
  let picked: PickedKernels;
  try {
    picked = await pickKernels({ choice: choice ?? "auto", threads, nnz, cores: availableParallelism() });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new CliError("backend_unavailable", `the wasm backend could not start: ${reason}`);
  }
  return { kernels: picked.kernels, notes: cliNotes(picked, choice, threads) };
}
