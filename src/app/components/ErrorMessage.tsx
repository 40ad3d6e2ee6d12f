/**
 * A failure said for people: the sentence first, then its code once, small (for a bug report or a search),
 * never in front of the sentence. data-code lets tests and scripts match the code, not the wording.
 */
export function ErrorMessage({
  message,
  code,
  testId,
}: {
  message: string;
  code?: string | null | undefined;
  testId?: string | undefined;
}) {
  return (
    <p className="error" role="alert" data-testid={testId} data-code={code ?? undefined}>
      {message}
      {code && (
        <>
          {" "}
          <code className="error-code" title="error code">
            {code}
          </code>
        </>
      )}
    </p>
  );
}
