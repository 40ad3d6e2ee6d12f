import { z } from "zod";
import { DISTRIBUTED_PROTOCOL_VERSION, MAX_BLOCKS } from "./distributed.ts";
import { attemptSchema, unitIdSchema } from "./jobs.ts";
import { PEER_ID_PATTERN } from "./ids.ts";

/**
 * Peer-to-peer halos of a distributed solve (src/core/jobs/distributed/halo-inbox.ts). Before each
 * epoch's `restart` the requester tells every block holder how halos travel in that epoch and, for peer
 * routing, who holds which block (`halo-peers`, on the same ordered channel as the restart). A holder
 * then sends each halo part straight to the holder of its `toBlock` as a `dist` frame of kind "halo"
 * whose message is the part itself (protocol/distributed.ts haloPartSchema). A receiver accepts a part
 * only from the authenticated peer the requester named for its `fromBlock` in that epoch.
 */

const blockIndex = z
  .number()
  .int()
  .min(0)
  .max(MAX_BLOCKS - 1);

export const haloPeersSchema = z.strictObject({
  v: z.literal(DISTRIBUTED_PROTOCOL_VERSION),
  type: z.literal("halo-peers"),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** "coordinator": halos go to the requester as before (no holders listed). */
  routing: z.enum(["peer", "coordinator"]),
  holders: z
    .array(
      z.strictObject({
        block: blockIndex,
        peerId: z.string().max(64).regex(PEER_ID_PATTERN),
        unitId: unitIdSchema,
        attempt: attemptSchema,
      }),
    )
    .max(MAX_BLOCKS),
});
export type HaloPeers = z.infer<typeof haloPeersSchema>;
