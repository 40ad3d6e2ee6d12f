/**
 * Tolerance and iteration limit as typed (parseSolveLimits checks them on submit). `ariaPrefix` tells the
 * swarm job's fields from the local solve's when both forms share the page.
 */
export function SolveLimitsFields({
  ariaPrefix = "",
  testIds,
  tol,
  maxIter,
  onTol,
  onMaxIter,
}: {
  ariaPrefix?: string;
  testIds?: { tol: string; maxIter: string };
  tol: string;
  maxIter: string;
  onTol: (tol: string) => void;
  onMaxIter: (maxIter: string) => void;
}) {
  return (
    <>
      <label>
        tolerance
        <br />
        <input
          type="text"
          aria-label={`${ariaPrefix}tolerance`}
          data-testid={testIds?.tol}
          value={tol}
          size={8}
          onChange={(e) => onTol(e.target.value)}
        />
      </label>
      <label>
        max iterations
        <br />
        <input
          type="number"
          aria-label={`${ariaPrefix}max iterations`}
          data-testid={testIds?.maxIter}
          value={maxIter}
          min={1}
          onChange={(e) => onMaxIter(e.target.value)}
        />
      </label>
    </>
  );
}
