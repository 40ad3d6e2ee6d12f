import type { Request } from "express";

/** This server as its own requester dials it: the address and port the request arrived at. */
export function ownOrigin(req: Request): string | null {
  const { localAddress, localPort } = req.socket;
  if (localAddress === undefined || localPort === undefined) return null;
  const host = localAddress.startsWith("::ffff:") ? localAddress.slice(7) : localAddress;
  return `http://${host.includes(":") ? `[${host}]` : host}:${localPort}`;
}
