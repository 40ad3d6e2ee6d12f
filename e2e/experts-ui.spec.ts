import { expect, test, type Page } from "@playwright/test";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { gunzipSync, deflateSync, crc32 } from "node:zlib";
import { parseNpy, writeNpy } from "../src/core/formats/npy.ts";
import type {} from "../src/state/experts/jobs-test-hook.ts";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";
import { FASHION_TEST_IMAGES as TEST_IMAGES } from "../src/node/fashion-mnist.ts";

// The experts view end to end, one tab alone: it is the requester (gate, canaries, combine) and, through the
// expert link's loopback, its own expert host. Classifies bundled Fashion-MNIST test images from the UI,
// shows accuracy, the routing histogram, who computed what and the router's host table; the predictions
// equal the single-process whole-graph model's in the same tab. Then the Contribute view's "Experts hosted"
// card, the volunteer Pause, uploaded PNGs, and the generic ONNX job (garbage model refused; a real one
// completes and its outputs download as .npy and .json).

const MODELS = new URL("../public/models/", import.meta.url).pathname;
const SCREENSHOT = "/tmp/experts-ui.png";

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

async function openExperts(browser: Parameters<typeof openPeer>[0]): Promise<Page> {
  const peer = await openPeer(browser, "/?test=1#/experts");
  peers.push(peer);
  const status = await peer.page.evaluate(async () => {
    const hook = window.openSwarm!.expertJobs;
    if (!hook) return "no-hook";
    await hook.ready;
    // The manifest is fetched at boot; wait until it settled.
    for (let i = 0; i < 100 && hook.state().manifestStatus === "loading"; i++)
      await new Promise((r) => setTimeout(r, 100));
    return hook.state().manifestStatus;
  });
  test.skip(status === "no-hook", "window.openSwarm.expertJobs is missing");
  test.skip(status === "missing", "public/models is not built (npm run models:build)");
  expect(status).toBe("ready");
  return peer.page;
}

test("one tab classifies 200 test images from the UI: accuracy, routing histogram, host table", async ({
  browser,
}) => {
  test.skip(!existsSync(TEST_IMAGES), "apt-get install dataset-fashion-mnist");
  test.setTimeout(180_000);
  const page = await openExperts(browser);
  const selfId = peers[0]!.peerId;

  await expect(page.getByTestId("classify-form")).toBeVisible();
  await page.getByTestId("classify-source-test").check();
  await page.getByTestId("classify-count").fill("200");
  await page.getByTestId("classify-run").click();

  const job = page.getByTestId("classify-job");
  await expect(job).toHaveAttribute("data-phase", "done", { timeout: 150_000 });
  await expect(page.getByTestId("classify-error")).toHaveCount(0);
  await expect(page.getByTestId("classify-progress")).toHaveJSProperty("value", 1);

  const accuracy = Number(await page.getByTestId("classify-accuracy").getAttribute("data-value"));
  expect(accuracy).toBeGreaterThanOrEqual(0.8);

  // The routing histogram: one bar per expert; top-k routing sends every image to k experts.
  const state = await page.evaluate(() => window.openSwarm!.expertJobs!.state());
  const experts = state.router!.experts.length;
  const bars = page.getByTestId("routing-bar");
  await expect(bars).toHaveCount(experts);
  let routed = 0;
  for (const bar of await bars.all()) routed += Number(await bar.getAttribute("data-value"));
  expect(routed).toBe(state.classify!.rowsPerExpert.reduce((a, b) => a + b, 0));
  expect(routed).toBeGreaterThanOrEqual(200);

  // Who computed the expert rows: this tab's own host served some (not everything fell back to "local").
  const hostShare = page.locator(`[data-testid="volunteer-share"][data-key="${selfId}"]`);
  await expect(hostShare).toHaveCount(1);
  expect(Number(await hostShare.getAttribute("data-value"))).toBeGreaterThan(0);

  // The router's host table lists this tab, with accepted rows and latencies.
  const hostRow = page.locator(`[data-testid="router-host-row"][data-peer-id="${selfId}"]`);
  await expect(hostRow).toHaveCount(1);
  expect(Number(await hostRow.getByTestId("router-host-rows").innerText())).toBeGreaterThan(0);
  await expect(hostRow.getByTestId("router-host-canary-failures")).toHaveText("0");
  const host = state.router!.hosts.find((h) => h.peerId === selfId)!;
  expect(host.p50Ms).not.toBeNull();
  expect(host.banned).toBeNull();

  // The quick view: thumbnails with predicted (and true) labels.
  await expect(page.getByTestId("classify-thumb")).toHaveCount(16);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  // All predictions, a page at a time (200 images: 48 a page, 5 pages), and all of them as a CSV.
  const pages = page.getByTestId("prediction-pages");
  await expect(pages).toHaveAttribute("data-pages", "5");
  await expect(page.getByTestId("prediction-thumb")).toHaveCount(48);
  await pages.getByRole("button", { name: "Next" }).click();
  await expect(pages).toHaveAttribute("data-page", "2");
  await expect(page.getByTestId("prediction-thumb").first()).toHaveAttribute("data-index", "48");
  const csvDownload = page.waitForEvent("download");
  await page.getByTestId("download-predictions").click();
  const csv = readFileSync((await (await csvDownload).path())!, "utf8")
    .trim()
    .split("\n");
  expect(csv[0]).toBe("index,name,predicted,predicted_class,label,label_class,correct");
  expect(csv.length).toBe(1 + 200);
  const correctInCsv = csv.slice(1).filter((line) => line.endsWith(",true")).length;
  expect(correctInCsv / 200).toBe(accuracy);

  // Same provider, same int8 graph: the swarm's predictions equal the whole-graph model's, row for row.
  const whole = await page.evaluate(() => window.openSwarm!.expertJobs!.wholeGraph());
  expect(whole.rows).toBe(200);
  expect(whole.mismatches).toBe(0);
  expect(whole.accuracy).toBe(accuracy);

  // The volunteer side on the Contribute view: what this tab hosts and served; Pause pauses hosting too.
  await page.getByRole("link", { name: "Contribute" }).click();
  const card = page.getByTestId("experts-hosted");
  await expect(card).toHaveAttribute("data-status", "hosting");
  await expect(card.getByTestId("experts-hosted-models").locator("li")).toHaveCount(experts);
  expect(Number(await page.getByTestId("experts-hosted-rows").innerText())).toBeGreaterThan(0);
  expect(Number(await page.getByTestId("experts-hosted-batches").innerText())).toBeGreaterThan(0);
  await page.screenshot({ path: "/tmp/experts-ui-contribute.png", fullPage: true });
  await page.getByTestId("volunteer-pause").click();
  await expect(card).toHaveAttribute("data-status", "paused");
  await expect.poll(() => page.evaluate(() => window.openSwarm!.expertJobs!.state().host?.paused)).toBe(true);
  await page.getByTestId("volunteer-pause").click();
  await expect(card).toHaveAttribute("data-status", "hosting");
});

test("uploaded PNGs are classified like the same test images", async ({ browser }) => {
  test.skip(!existsSync(TEST_IMAGES), "apt-get install dataset-fashion-mnist");
  const page = await openExperts(browser);
  const reference = await page.evaluate(() => window.openSwarm!.expertJobs!.classifyTestSet(3));
  const pixels = gunzipSync(readFileSync(TEST_IMAGES)).subarray(16, 16 + 3 * 784);
  const files = [0, 1, 2].map((i) => ({
    name: `test-${i}.png`,
    mimeType: "image/png",
    buffer: grayPng(pixels.subarray(i * 784, (i + 1) * 784), 28, 28),
  }));
  await page.getByTestId("classify-source-upload").check();
  await page.getByTestId("classify-files").setInputFiles(files);
  await page.getByTestId("classify-run").click();
  const job = page.getByTestId("classify-job");
  await expect(job).toHaveAttribute("data-phase", "done", { timeout: 60_000 });
  const uploaded = await page.evaluate(() => window.openSwarm!.expertJobs!.state().classify!);
  expect(uploaded.rows).toBe(3);
  expect(uploaded.labels).toBeNull();
  expect(uploaded.predictions).toEqual(reference.predictions);
  await expect(page.getByTestId("classify-inverted")).toHaveCount(0);

  // A file that is neither an image nor IDX (here: a model) is refused by name.
  await page.getByTestId("classify-files").setInputFiles({
    name: "model.onnx",
    mimeType: "application/octet-stream",
    buffer: Buffer.from([0x08, 0x07, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74, 0, 0, 0, 0, 0, 0, 0, 0]),
  });
  await page.getByTestId("classify-run").click();
  await expect(job).toHaveAttribute("data-phase", "failed");
  await expect(page.getByTestId("classify-error")).toHaveAttribute("data-code", "bad_file");
  await expect(page.getByTestId("classify-error")).toContainText(
    "model.onnx: not a PNG/JPEG image nor an IDX file",
  );
});

test("the generic job refuses a garbage .onnx with a clear error", async ({ browser }) => {
  const page = await openExperts(browser);
  await page.getByTestId("generic-model-file").setInputFiles({
    name: "garbage.onnx",
    mimeType: "application/octet-stream",
    buffer: Buffer.from("this is definitely not an ONNX model, just text"),
  });
  await page.getByTestId("generic-batch-file").setInputFiles({
    name: "batch.npy",
    mimeType: "application/octet-stream",
    buffer: Buffer.from(writeNpy(new Float32Array(784), [1, 784])),
  });
  await page.getByTestId("generic-run").click();
  const error = page.getByTestId("generic-error");
  await expect(error).toHaveAttribute("data-code", "not_onnx");
  await expect(error).toContainText("garbage.onnx is not an ONNX model");
  await expect(page.getByTestId("generic-result")).toHaveAttribute("data-phase", "failed");
});

test("the generic job runs an uploaded model on a .npy batch and offers .npy and .json downloads", async ({
  browser,
}) => {
  const modelPath = `${MODELS}expert-0-int8.onnx`;
  test.skip(!existsSync(modelPath), "public/models is not built");
  const page = await openExperts(browser);
  const rows = 300;
  const input = Float32Array.from({ length: rows * 784 }, (_, i) => ((i * 37) % 256) / 255);
  await page.getByTestId("generic-model-file").setInputFiles(modelPath);
  await page.getByTestId("generic-batch-file").setInputFiles({
    name: "batch.npy",
    mimeType: "application/octet-stream",
    buffer: Buffer.from(writeNpy(input, [rows, 784])),
  });
  await page.getByTestId("generic-run").click();
  const result = page.getByTestId("generic-result");
  await expect(result).toHaveAttribute("data-phase", "done", { timeout: 60_000 });

  const npyButton = page.locator('[data-testid="generic-download-npy"][data-output="logits"]');
  const [npyDownload] = await Promise.all([page.waitForEvent("download"), npyButton.click()]);
  expect(npyDownload.suggestedFilename()).toBe("expert-0-int8-logits.npy");
  const logits = parseNpy(new Uint8Array(await readFile(await npyDownload.path())));
  expect(logits.dtype).toBe("float32");
  expect(logits.shape).toEqual([rows, 10]);
  expect([...logits.data].every(Number.isFinite)).toBe(true);

  const [jsonDownload] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("generic-download-json").click(),
  ]);
  const json = JSON.parse(await readFile(await jsonDownload.path(), "utf8")) as {
    outputs: Record<string, { shape: number[]; data: number[] }>;
    sha256: string;
  };
  expect(json.outputs["logits"]!.shape).toEqual([rows, 10]);
  expect(json.outputs["logits"]!.data.slice(0, 10)).toEqual([...logits.data.subarray(0, 10)]);
  expect(json.sha256).toMatch(/^[0-9a-f]{64}$/);

  // A batch of the wrong width says what the model takes.
  await page.getByTestId("generic-batch-file").setInputFiles({
    name: "narrow.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ shape: [2, 5], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] })),
  });
  await page.getByTestId("generic-run").click();
  const error = page.getByTestId("generic-error");
  await expect(error).toHaveAttribute("data-code", "bad_shape");
  await expect(error).toContainText("784");
});

/** A minimal grayscale 8-bit PNG (one IDAT, filter 0 on every row). */
function grayPng(pixels: Uint8Array, width: number, height: number): Buffer {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit, grayscale, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
