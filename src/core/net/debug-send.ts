import type { PeerLink } from "./peer-link.ts";

/**
 * TEST ONLY (Mesh.debugSendRaw, behind enableDebug): traffic that bypasses every outgoing check, to prove
 * the receiver rejects it. Bytes or text go out unframed; an object is framed as a message header
 * (optionally with an attachment) without validation: forged envelopes, wrong versions, unknown types.
 */
export async function debugSend(
  link: PeerLink,
  frameOrMessage: unknown,
  attachment?: Uint8Array,
): Promise<void> {
  if (typeof frameOrMessage === "string") link.sendRaw(frameOrMessage);
  else if (frameOrMessage instanceof ArrayBuffer) link.sendRaw(new Uint8Array(frameOrMessage.slice(0)));
  else if (frameOrMessage instanceof Uint8Array) link.sendRaw(new Uint8Array(frameOrMessage));
  else await link.sendUnchecked(frameOrMessage, attachment);
}
