import { isMethodName, type MethodName } from "../../../core/protocol/solver-names.ts";
import { METHODS } from "../../solve-choices.ts";

/** The solver method, for the local solve and the swarm job alike. */
export function MethodField({
  label,
  ariaLabel,
  testId,
  value,
  onChange,
}: {
  label: string;
  ariaLabel: string;
  testId?: string;
  value: MethodName;
  onChange: (method: MethodName) => void;
}) {
  return (
    <label>
      {label}
      <br />
      <select
        aria-label={ariaLabel}
        data-testid={testId}
        value={value}
        onChange={(e) => {
          if (isMethodName(e.target.value)) onChange(e.target.value);
        }}
      >
        {METHODS.map((m) => (
          <option key={m.value} value={m.value}>
            {m.label}
          </option>
        ))}
      </select>
    </label>
  );
}
