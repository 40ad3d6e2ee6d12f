/** One line per image: index (0-based, as in the input), name, predicted class, true label when known. */
export function predictionsCsv(
  predictions: Int32Array,
  labels: Uint8Array | null,
  names: readonly string[],
  classes: readonly string[],
): string {
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = ["index,name,predicted,predicted_class,label,label_class,correct"];
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i]!;
    const label = labels ? labels[i]! : null;
    lines.push(
      [
        i,
        quote(names[i] ?? `#${i}`),
        p,
        quote(classes[p] ?? ""),
        label ?? "",
        label === null ? "" : quote(classes[label] ?? ""),
        label === null ? "" : p === label,
      ].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}
