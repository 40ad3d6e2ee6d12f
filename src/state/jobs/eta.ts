/**
 * A running job's time left, from its pace so far: the units verified per second since it was submitted,
 * applied to the units left. Null ("estimating…") until a unit is done: before that there is no pace, only
 * a guess. Units run in parallel on several volunteers, so the pace already counts the swarm's width.
 */
export function estimateRemainingMs(
  unitsDone: number,
  unitsTotal: number,
  startedAtMs: number,
  nowMs: number,
): number | null {
  const elapsed = nowMs - startedAtMs;
  if (!(unitsDone > 0) || !(elapsed > 0) || unitsTotal <= unitsDone) return null;
  const perMs = unitsDone / elapsed;
  return (unitsTotal - unitsDone) / perMs;
}
