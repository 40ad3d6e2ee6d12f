import { CodedError } from "../base/coded-error.ts";
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
export class MeshError extends CodedError<MeshErrorCode> {
  override readonly name = "MeshError";
}
