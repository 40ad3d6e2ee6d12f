/** Changes to A and b: applied between solves (patch.ts, resolve.ts) or live during one (mailbox.ts, live.ts). */
export {
  closeMailbox,
  createUpdateMailbox,
  DEFAULT_MAILBOX_CAPACITY,
  mailboxSource,
  postToMailbox,
} from "./mailbox.ts";
export { applyUpdates } from "./patch.ts";
export type { EntryUpdate, RhsUpdate, SystemUpdates, UpdatedSystem } from "./patch.ts";
export { solveCold } from "./resolve.ts";
export type { LiveUpdateEvent } from "./source.ts";
export { parseUpdateText } from "./text.ts";
