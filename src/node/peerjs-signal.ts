import { z } from "zod";

/**
 * The PeerServer's messages as the Node transport reads them (the `peer` package relays what other peers
 * send, so `payload` is whatever a remote wrote: untrusted). Only the fields used are checked; anything
 * else passes through untouched. Sizes are capped so a flood of giant SDPs costs little.
 */
const MAX_SDP_CHARS = 64 * 1024;
const MAX_ID_CHARS = 256;

const payloadSchema = z
  .object({
    type: z.string().max(16).optional(),
    connectionId: z.string().min(1).max(MAX_ID_CHARS).optional(),
    serialization: z.string().max(32).optional(),
    sdp: z.object({ type: z.string().max(16), sdp: z.string().max(MAX_SDP_CHARS) }).optional(),
    candidate: z
      .object({
        candidate: z.string().max(1024),
        sdpMid: z.string().max(64).nullable().optional(),
        sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
      })
      .optional(),
    msg: z.string().max(1024).optional(),
  })
  .loose();

const signalSchema = z.object({
  type: z.string().max(32),
  src: z.string().max(MAX_ID_CHARS).optional(),
  dst: z.string().max(MAX_ID_CHARS).optional(),
  payload: payloadSchema.optional(),
});

export type SignalMessage = z.infer<typeof signalSchema>;

/** The message, or null when it is not JSON or not shaped like a PeerServer message. */
export function parseSignal(text: string): SignalMessage | null {
  if (text.length > 2 * MAX_SDP_CHARS) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = signalSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}
