import { CodedError } from "../base/coded-error.ts";
export type MeshErrorCode =
  | "not_connected"
  | "timeout"
  | "peer_closed"
  | "send_failed"
  | "invalid_outgoing"
  | "blob_rejected"
  | "debug_disabled"
  | "closed";

/** Every failure the mesh reports to its callers carries one of these codes. */
export class MeshError extends CodedError<MeshErrorCode> {
  override readonly name = "MeshError";
}
