import { endLease } from "./attempt-end.ts";
import type { SchedulerBook } from "./book.ts";

/** Ends every lease past its deadline or without a recent heartbeat (both charged, with a cancel). */
export function expireLeases(b: SchedulerBook, now: number): void {
  for (const id of [...b.leased]) {
    const u = b.units.get(id)!;
    const lease = u.lease!;
    if (now >= lease.deadlineMs) {
      endLease(b, u, {
        outcome: "deadline-expired",
        detail: `no result by the deadline (${lease.deadlineMs - lease.assignedAtMs} ms after assignment)`,
        charged: true,
        cancel: "deadline-expired",
      });
    } else if (now - lease.lastHeartbeatMs > b.config.heartbeatTimeoutMs) {
      endLease(b, u, {
        outcome: "heartbeat-timeout",
        detail: `no heartbeat for ${now - lease.lastHeartbeatMs} ms`,
        charged: true,
        cancel: "heartbeat-timeout",
      });
    }
  }
}
