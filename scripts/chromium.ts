import { existsSync } from "node:fs";

/** Debian's Chromium; when it is absent Playwright falls back to its own downloaded browser. */
export const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/**
 * Flags every headless Chromium of ours needs on these machines (tests, benchmarks): no sandbox as root,
 * no background traffic to outside hosts (the network is closed and Chromium would keep retrying), WebGPU
 * through SwiftShader where no GPU exists, and WebRTC host candidates instead of mDNS names (tabs on one
 * machine connect in ~60 ms instead of ~250 ms).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];

/** Launch options for Playwright's `chromium.launch` (or `use.launchOptions`), with extra flags appended. */
export function chromiumLaunchOptions(extraArgs: readonly string[] = []): {
  executablePath?: string;
  args: string[];
} {
  return {
    ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}),
    args: [...CHROMIUM_ARGS, ...extraArgs],
  };
}
