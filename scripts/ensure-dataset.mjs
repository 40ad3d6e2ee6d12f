#!/usr/bin/env node
// Makes sure the Fashion-MNIST test set is where the expert tests read it (Debian's dataset-fashion-mnist
// package; never copied into the repo). Installs it when we are root on Debian (CI, fresh machines),
// otherwise says exactly what to run: without it the swarm-vs-whole-graph tests could not run.
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

const DIR = `${process.env.OPEN_SWARM_DATASETS_DIR ?? "/usr/share/datasets"}/fashion-mnist`;
const FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
const present = () => FILES.every((f) => existsSync(`${DIR}/${f}`));

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (present()) {
  console.log(`expert tests: Fashion-MNIST test set in ${DIR}`);
} else if (isRoot && existsSync("/usr/bin/apt-get") && existsSync("/etc/debian_version")) {
  console.log("expert tests: installing Debian's dataset-fashion-mnist package (apt-get)...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "dataset-fashion-mnist"], { stdio: "inherit", env });
  if (!present()) {
    console.error(`expert tests: apt-get finished but ${DIR} still lacks ${FILES.join(", ")}`);
    process.exit(1);
  }
} else {
  console.error(
    [
      `expert tests: the Fashion-MNIST test set is missing (${DIR}/${FILES[0]}). Install it with:`,
      "  Debian/Ubuntu:   sudo apt-get install -y dataset-fashion-mnist",
      "  elsewhere:       put the four IDX .gz files of github.com/zalandoresearch/fashion-mnist in a folder",
      "                   named fashion-mnist and set OPEN_SWARM_DATASETS_DIR to its parent",
      "then run the tests again.",
    ].join("\n"),
  );
  process.exit(1);
}
