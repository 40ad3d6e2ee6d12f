/** Distributed solves as swarm jobs: the requester's coordinator and the volunteers' blocks over job links. */
export { RequesterDistributedSolves } from "./requester.ts";
export { DistributedVolunteer } from "./volunteer.ts";
