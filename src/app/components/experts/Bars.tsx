/** One horizontal bar per item, longest = full width: quicker to read than a table of counts. */
export interface BarItem {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  /** Shown at the end of the bar (defaults to the value). */
  readonly text?: string;
  readonly title?: string;
}

export function Bars({
  items,
  testId,
  itemTestId,
}: {
  items: readonly BarItem[];
  testId: string;
  itemTestId: string;
}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <div className="bars" data-testid={testId} role="list">
      {items.map((item) => (
        <div
          key={item.key}
          className="bar-row"
          role="listitem"
          title={item.title}
          data-testid={itemTestId}
          data-key={item.key}
          data-value={item.value}
        >
          <span className="bar-label">{item.label}</span>
          <span className="bar-track">
            <span className="bar-fill" style={{ width: `${(100 * item.value) / max}%` }} />
          </span>
          <span className="bar-value">{item.text ?? item.value}</span>
        </div>
      ))}
    </div>
  );
}
