import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/**
 * The client's address. Behind a reverse proxy (`trustProxy`), the proxy appends the address it saw to
 * X-Forwarded-For, so only the RIGHTMOST entry is written by someone we trust: everything to its left came
 * from the client and may be forged. (One trusted hop; a chain of proxies would need a hop count.) An entry
 * that is not an IP address falls back to the socket's address. IPv4-mapped IPv6 is normalized, so one host
 * cannot count as two.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers["x-forwarded-for"];
    // Several X-Forwarded-For headers are joined in order: the last one is the proxy's.
    const joined = Array.isArray(header) ? header.join(",") : header;
    const rightmost = joined?.split(",").pop()?.trim();
    if (rightmost && isIP(normalizeAddress(rightmost)) !== 0) return normalizeAddress(rightmost);
  }
  return normalizeAddress(req.socket.remoteAddress ?? "unknown");
}

function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith("::ffff:") && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

/**
 * The key per-address limits are counted under. An IPv6 host is usually handed a whole /64 and picks any
 * address in it at will, so an IPv6 address counts by its /64 prefix; IPv4 addresses count one by one.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The 8 hextets of an IPv6 address (zone id dropped, an embedded dotted IPv4 tail counted as two). */
function expandIpv6(address: string): string[] {
  const [withoutZone = ""] = address.split("%");
  const [head = "", tail] = withoutZone.split("::");
  const parse = (part: string): string[] =>
    part === ""
      ? []
      : part
          .split(":")
          .flatMap((group) => (group.includes(".") ? ["0", "0"] : [group.replace(/^0+(?=.)/, "")]));
  const headGroups = parse(head);
  const tailGroups = tail === undefined ? [] : parse(tail);
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  return [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
}

/** 127.0.0.0/8 and ::1: a caller on this machine. */
export function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith("127.");
  return isIP(address) === 6 && expandIpv6(address).join(":") === "0:0:0:0:0:0:0:1";
}
