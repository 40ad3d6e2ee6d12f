// How the expert router and hosts talk (expert-link.ts), over the mesh or, in tests and benches, in memory.
export { meshExpertLink, type ExpertLink } from "./expert-link.ts";
export { MemoryExpertHub } from "./memory-hub.ts";
