export type BadgeTone = "ok" | "bad" | "warn" | "info" | "neutral";

/** Tones for every status word the job and volunteer views show; unknown words are neutral. */
const TONES: Readonly<Record<string, BadgeTone>> = {
  // jobs
  running: "info",
  done: "ok",
  failed: "bad",
  cancelled: "neutral",
  // units
  pending: "neutral",
  leased: "info",
  verifying: "warn",
  // verification
  verified: "ok",
  rejected: "bad",
  none: "neutral",
  // volunteers
  idle: "neutral",
  computing: "info",
  paused: "warn",
  banned: "bad",
};

/** A small colored pill; `tone` overrides the color chosen from the word. */
export function StatusBadge({ status, tone, testId }: { status: string; tone?: BadgeTone; testId?: string }) {
  return (
    <span className={`badge ${tone ?? TONES[status] ?? "neutral"}`} data-testid={testId}>
      {status}
    </span>
  );
}
