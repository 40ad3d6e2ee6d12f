// The expert router as the rest of the code sees it (router.ts: the requester side of the swarm
// mixture-of-experts): the router, its vocabulary, and the mixture's arithmetic (routing rows by the gate,
// combining the experts' outputs) that the model scripts reuse.
export { ExpertRouter } from "./router.ts";
export type * from "./types.ts";
export { MAX_CLASSIFY_ROWS, MAX_RUN_MODEL_ROWS } from "./jobs/generic.ts";
export { argmaxRows, combineExperts } from "./jobs/combine.ts";
export { gatherRows, routeRows } from "./jobs/routing.ts";
export { keepExpertLinks, type ExpertLinks } from "./expert-links.ts";
