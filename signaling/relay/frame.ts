import { z } from "zod";
import { PEER_ID_PATTERN } from "../../src/core/protocol/ids.ts";

/**
 * What a PeerJS client may send the server. The browser client sends exactly these: HEARTBEAT, and OFFER /
 * ANSWER / CANDIDATE addressed to a peer id (peerjs/dist: Socket._sendHeartbeat, Negotiator). LEAVE and
 * EXPIRE are server-to-client messages: a client has no business sending them (a `LEAVE` without `dst`
 * would even make the `peer` package forget the sender's registration while its socket stays open).
 * `src` is never read from the client: the relay writes the sender's registered id.
 */
const relayFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("HEARTBEAT") }),
  z.object({
    type: z.enum(["OFFER", "ANSWER", "CANDIDATE"]),
    dst: z.string().max(64).regex(PEER_ID_PATTERN),
    payload: z.unknown(),
  }),
]);

export type RelayFrame = z.infer<typeof relayFrameSchema>;
export type SignalFrame = Exclude<RelayFrame, { type: "HEARTBEAT" }>;

export type DecodedRelayFrame =
  | { ok: true; frame: RelayFrame }
  | { ok: false; reason: "peerjs_binary_frame" | "peerjs_malformed_json" | "peerjs_invalid_frame" };

export function decodeRelayFrame(data: Buffer, isBinary: boolean): DecodedRelayFrame {
  if (isBinary) return { ok: false, reason: "peerjs_binary_frame" };
  let json: unknown;
  try {
    json = JSON.parse(data.toString("utf8"));
  } catch {
    return { ok: false, reason: "peerjs_malformed_json" };
  }
  const parsed = relayFrameSchema.safeParse(json);
  return parsed.success ? { ok: true, frame: parsed.data } : { ok: false, reason: "peerjs_invalid_frame" };
}

/** The frame as the destination receives it: the shape the `peer` package's relay sends, `src` ours. */
export function serializeForDestination(frame: SignalFrame, src: string): string {
  return JSON.stringify({ type: frame.type, src, dst: frame.dst, payload: frame.payload });
}
