import { InvalidArgumentError } from "commander";
import { CodedError } from "../core/base/coded-error.ts";

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

/** Most row blocks of `submit --distribute`, as the Dashboard's form (and one directory query's k). */
const MAX_DISTRIBUTE = 64;

export function parseBlocks(value: string): number {
  const k = Number(value);
  if (!Number.isInteger(k) || k < 2 || k > MAX_DISTRIBUTE) {
    throw new InvalidArgumentError(`an integer from 2 to ${MAX_DISTRIBUTE} (volunteers, one row block each)`);
  }
  return k;
}

/** `submit --distribute K` found fewer than K volunteers in time (exit 4, like the other swarm errors). */
export class TooFewVolunteers extends CodedError<"too_few_volunteers"> {
  override readonly name = "TooFewVolunteers";
}
