import express from "express";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATASETS_DIR_ENV,
  DEFAULT_DATASETS_DIR,
  datasetsDirFromEnv,
  datasetsRouter,
} from "../../../signaling/datasets.ts";
import { startTestServer } from "./helpers.ts";

/** A tiny IDX file pair (2 images of 2×2, 2 labels), gzip-compressed like Debian's. */
const IMAGES = gzipSync(
  Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]),
);
const LABELS = gzipSync(Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 9, 3]));

let withFiles: string;
let empty: string;
let full: { server: Server; url: string };
let missing: { server: Server; url: string };

async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const app = express();
  app.use("/api/v1/datasets", datasetsRouter({ dir }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  withFiles = mkdtempSync(path.join(tmpdir(), "open-swarm-datasets-"));
  mkdirSync(path.join(withFiles, "fashion-mnist"));
  writeFileSync(path.join(withFiles, "fashion-mnist", "t10k-images-idx3-ubyte.gz"), IMAGES);
  writeFileSync(path.join(withFiles, "fashion-mnist", "t10k-labels-idx1-ubyte.gz"), LABELS);
  empty = mkdtempSync(path.join(tmpdir(), "open-swarm-datasets-empty-"));
  full = await serve(withFiles);
  missing = await serve(empty);
});

afterAll(async () => {
  await Promise.all([full, missing].map((s) => new Promise((r) => s.server.close(r))));
  rmSync(withFiles, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

describe("datasets endpoint", () => {
  it("serves the gzip IDX files byte for byte, as application/gzip without Content-Encoding", async () => {
    const res = await fetch(`${full.url}/api/v1/datasets/fashion-mnist/t10k-images`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    expect(res.headers.get("content-encoding")).toBeNull();
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(IMAGES)).toBe(true);
    expect([...gunzipSync(bytes).subarray(0, 4)]).toEqual([0, 0, 8, 3]);

    const labels = await fetch(`${full.url}/api/v1/datasets/fashion-mnist/t10k-labels`);
    expect(labels.status).toBe(200);
    expect(Buffer.from(await labels.arrayBuffer()).equals(LABELS)).toBe(true);
  });

  it("lists the files with sizes and availability", async () => {
    const res = await fetch(`${full.url}/api/v1/datasets/fashion-mnist`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { available: boolean; files: { name: string; bytes: number }[] };
    expect(body.available).toBe(true);
    expect(body.files.map((f) => [f.name, f.bytes])).toEqual([
      ["t10k-images", IMAGES.length],
      ["t10k-labels", LABELS.length],
    ]);
  });

  it("answers 404 with the apt-get hint when the package is not installed", async () => {
    const res = await fetch(`${missing.url}/api/v1/datasets/fashion-mnist/t10k-images`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: string; message: string; install: string };
    expect(body.error).toBe("dataset_not_installed");
    expect(body.install).toBe("apt-get install dataset-fashion-mnist");
    expect(body.message).toContain("apt-get install dataset-fashion-mnist");
    expect(body.message).toContain(DATASETS_DIR_ENV);

    const list = (await (await fetch(`${missing.url}/api/v1/datasets/fashion-mnist`)).json()) as {
      available: boolean;
      install?: string;
    };
    expect(list.available).toBe(false);
    expect(list.install).toBe("apt-get install dataset-fashion-mnist");
  });

  it("refuses names outside its table (no path from the URL reaches the disk)", async () => {
    for (const name of [
      "train-images",
      "..%2F..%2Fetc%2Fpasswd",
      "t10k-images-idx3-ubyte.gz",
      "constructor",
    ]) {
      const res = await fetch(`${full.url}/api/v1/datasets/fashion-mnist/${name}`);
      expect(res.status, name).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBe("unknown_dataset_file");
    }
    const other = await fetch(`${full.url}/api/v1/datasets/mnist/t10k-images`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: string }).error).toBe("unknown_dataset");
  });

  it("reads the folder from OPEN_SWARM_DATASETS_DIR, the default when unset or empty", () => {
    expect(datasetsDirFromEnv({})).toBe(DEFAULT_DATASETS_DIR);
    expect(datasetsDirFromEnv({ [DATASETS_DIR_ENV]: " " })).toBe(DEFAULT_DATASETS_DIR);
    expect(datasetsDirFromEnv({ [DATASETS_DIR_ENV]: "/srv/data" })).toBe("/srv/data");
  });

  it("is mounted by the real server, with isolation headers, and honours the environment variable", async () => {
    const before = process.env[DATASETS_DIR_ENV];
    process.env[DATASETS_DIR_ENV] = withFiles;
    const t = await startTestServer();
    try {
      const res = await fetch(`${t.baseUrl}/api/v1/datasets/fashion-mnist/t10k-labels`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
      expect(Buffer.from(await res.arrayBuffer()).equals(LABELS)).toBe(true);
    } finally {
      await t.close();
      if (before === undefined) delete process.env[DATASETS_DIR_ENV];
      else process.env[DATASETS_DIR_ENV] = before;
    }
  });
});
