/**
 * Where a session's iterations ran, as every event says it: the server's own solver threads, or a
 * volunteer of the swarm (its peer id; `verified` is true only on what the server certified itself from the
 * volunteer's returned x, false on the volunteer's own progress reports).
 */
export type Where =
  "server" | { readonly kind: "volunteer"; readonly peer: string; readonly verified: boolean };

export const ON_SERVER: Where = "server";
