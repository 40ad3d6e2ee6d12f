export type MeshErrorCode =
  | "not-connected"
  | "timeout"
  | "peer-closed"
  | "send-failed"
  | "invalid-outgoing"
  | "blob-rejected"
  | "debug-disabled"
  | "closed";

/** Every failure the mesh reports to its callers carries one of these codes. */
export class MeshError extends Error {
  constructor(
    readonly code: MeshErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "MeshError";
  }
}
