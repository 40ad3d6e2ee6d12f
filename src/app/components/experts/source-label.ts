import { shortPeerId } from "../../format.ts";

/** How a row source reads: "local" is the requester's own runner; this tab's host is named as such. */
export function sourceLabel(source: string, selfId: string | null): string {
  if (source === "local") return "this tab (own runner)";
  if (source === selfId) return "this tab (as host)";
  return shortPeerId(source);
}
