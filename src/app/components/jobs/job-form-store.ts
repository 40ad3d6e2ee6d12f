import { createStore } from "zustand/vanilla";
import { EXAMPLES } from "../../solve-choices.ts";
import type { JobFormValues } from "./job-submission.ts";

export const INITIAL_JOB_FORM: JobFormValues = {
  name: "",
  source: "generated",
  generatedName: EXAMPLES[0].name,
  matrixFile: null,
  rhsFiles: [],
  rhsMode: "ones",
  randomCount: "8",
  method: "hybrid",
  tol: "1e-8",
  maxIter: "20000",
  distribute: false,
  blocks: "2",
};

/**
 * What the swarm form holds, kept outside the component: leaving the Dashboard and coming back (or a failed
 * submission) keeps what the person typed and chose instead of resetting the form to its defaults. Memory
 * only (chosen files cannot be restored after a reload anyway).
 */
export const jobFormStore = createStore<{ values: JobFormValues }>()(() => ({ values: INITIAL_JOB_FORM }));

export function updateJobForm(patch: Partial<JobFormValues>): void {
  jobFormStore.setState((s) => ({ values: { ...s.values, ...patch } }));
}
