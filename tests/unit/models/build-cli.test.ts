import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DatasetMissingError, loadFashionMnist } from "../../../scripts/models/dataset.ts";

describe("models:build without the dataset", () => {
  it("loadFashionMnist names the missing files and the Debian package", () => {
    expect(() => loadFashionMnist("/nonexistent/fashion")).toThrow(DatasetMissingError);
    expect(() => loadFashionMnist("/nonexistent/fashion")).toThrow(
      /train-images-idx3-ubyte\.gz.*sudo apt-get install dataset-fashion-mnist/s,
    );
  });

  it("the build script exits with code 2 and says how to install it", () => {
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "scripts/models/build.ts",
        "--data",
        "/nonexistent/fashion",
        "--out",
        "/nonexistent/out",
      ],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("sudo apt-get install dataset-fashion-mnist");
  });
});
