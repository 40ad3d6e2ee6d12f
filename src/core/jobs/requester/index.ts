/** The requester's side of swarm jobs: submit, hand out, verify, keep and resume (runtime.ts). */
export { RequesterRuntime } from "./runtime.ts";
export type { SubmitInput } from "./runtime.ts";
