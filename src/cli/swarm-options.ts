import { InvalidArgumentError } from "commander";

/** Option parsers shared by the swarm commands (volunteer, submit). */
export function parseServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`not a URL: ${value}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidArgumentError(`the server is an http(s) origin, not ${url.protocol}`);
  }
  return url.origin;
}

export function parseCpuShare(value: string): number {
  const share = Number(value);
  if (!Number.isFinite(share) || share < 0.1 || share > 1) {
    throw new InvalidArgumentError("a fraction between 0.1 and 1");
  }
  return share;
}

export { parsePositiveInt } from "./solve-options.ts";
