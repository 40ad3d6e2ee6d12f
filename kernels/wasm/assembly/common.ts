// Exports shared by both builds.
import { ABI_VERSION, BLOCK, CTRL_BYTES } from "./layout";

export { runChunks } from "./dispatch";

/** The JS side refuses a module whose ABI differs from the layout it was written for (stale build). */
export function abiVersion(): i32 {
  return ABI_VERSION;
}

export function blockSize(): i32 {
  return BLOCK;
}

export function ctrlBytes(): i32 {
  return CTRL_BYTES;
}

