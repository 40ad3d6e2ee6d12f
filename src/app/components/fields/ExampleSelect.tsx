import { EXAMPLES } from "../../solve-choices.ts";

/** One of the generated example systems (by generator name). */
export function ExampleSelect({
  ariaLabel,
  testId,
  value,
  onChange,
}: {
  ariaLabel: string;
  testId?: string;
  value: string;
  onChange: (name: string) => void;
}) {
  return (
    <select
      aria-label={ariaLabel}
      data-testid={testId}
      value={value}
      onChange={(e) => onChange(e.target.value)}
    >
      {EXAMPLES.map((ex) => (
        <option key={ex.name} value={ex.name}>
          {ex.label}
        </option>
      ))}
    </select>
  );
}
