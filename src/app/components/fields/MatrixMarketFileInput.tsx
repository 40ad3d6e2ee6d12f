/** A file picker for Matrix Market files (A, or right-hand sides). */
export function MatrixMarketFileInput({
  testId,
  multiple = false,
  onChange,
}: {
  testId: string;
  multiple?: boolean;
  onChange: (files: File[]) => void;
}) {
  return (
    <input
      type="file"
      accept=".mtx,text/plain"
      multiple={multiple}
      data-testid={testId}
      onChange={(e) => onChange(Array.from(e.target.files ?? []))}
    />
  );
}
