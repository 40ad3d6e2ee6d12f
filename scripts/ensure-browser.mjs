#!/usr/bin/env node
// Makes sure the browser tests have a Chromium to drive, before Playwright starts.
// Order: /usr/bin/chromium (Debian's package) > Playwright's own downloaded browser > install Debian's
// chromium when we are root on Debian (CI, fresh machines) > tell the user exactly what to run.
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { chromium } from "@playwright/test";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

function playwrightBrowserPresent() {
  try {
    return existsSync(chromium.executablePath());
  } catch {
    return false;
  }
}

function canInstallDebianChromium() {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  return isRoot && existsSync("/usr/bin/apt-get") && existsSync("/etc/debian_version");
}

if (existsSync(SYSTEM_CHROMIUM)) {
  console.log(`browser tests: using ${SYSTEM_CHROMIUM}`);
} else if (playwrightBrowserPresent()) {
  console.log(`browser tests: using Playwright's Chromium at ${chromium.executablePath()}`);
} else if (canInstallDebianChromium()) {
  console.log("browser tests: no Chromium found; installing Debian's chromium package (apt-get)...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
  if (!existsSync(SYSTEM_CHROMIUM)) {
    console.error("browser tests: apt-get finished but /usr/bin/chromium is still missing");
    process.exit(1);
  }
} else {
  console.error(
    [
      "browser tests: no Chromium found. Install one of:",
      "  Debian/Ubuntu:   sudo apt-get install -y chromium",
      "  anywhere else:   npx playwright install chromium",
      "then run the tests again.",
    ].join("\n"),
  );
  process.exit(1);
}
