/** Moved to src/core/base (the dashboard's random right-hand sides are made from a seed too). */
export { seededRandom } from "../core/base/seeded-random.ts";
