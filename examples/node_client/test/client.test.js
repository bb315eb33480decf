// The client against audjust-mock: a `serve` process, the container, or the compose service.
//   AUDJUST_BASE_URL     the API (default http://127.0.0.1:8080)
//   AUDJUST_API_KEY      default test-key, the mock's own default
//   AUDJUST_ADMIN_TOKEN  X-Admin-Token for /_mock/* when the mock is beyond loopback
//   AUDJUST_SOURCE_URL   a song the mock can download (default: one it bundles)
//   AUDJUST_RESULTS_URL  if set, where every result URL must start (the mock's --results-url)
//   AUDJUST_WEBHOOKS     receiver (default): webhooks come to this process, on WEBHOOK_LISTEN
//                        (host:port, default 127.0.0.1:0) reached at WEBHOOK_PUBLIC_URL;
//                        sink: the mock cannot reach this process, so webhooks go to its own sink
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { AudjustClient, AudjustError, bestFirst, startWebhookReceiver } from "../src/audjust.js";

const env = process.env;
const baseUrl = (env.AUDJUST_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const client = new AudjustClient({ baseUrl, apiKey: env.AUDJUST_API_KEY ?? "test-key" });
const sourceFileUrl = env.AUDJUST_SOURCE_URL ?? `${baseUrl}/_mock/fixtures/pop_120.mp3`;
const adminHeaders = env.AUDJUST_ADMIN_TOKEN ? { "X-Admin-Token": env.AUDJUST_ADMIN_TOKEN } : {};

// Webhooks to the mock's built-in sink, read back through the control API.
function sinkReceiver() {
  const url = `${baseUrl}/_mock/sink/node-client-${process.pid}-${Date.now()}`;
  return {
    url,
    async waitFor(requestId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const answer = await fetch(url, { headers: adminHeaders });
        assert.equal(answer.status, 200, `GET ${url}: ${await answer.clone().text()}`);
        const found = (await answer.json()).find((payload) => payload.requestId === requestId);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`no webhook for ${requestId} in the sink within ${timeoutMs} ms`);
    },
    close: async () => {},
  };
}

async function webhookReceiver() {
  if (env.AUDJUST_WEBHOOKS === "sink") return sinkReceiver();
  const [host, port] = (env.WEBHOOK_LISTEN ?? "127.0.0.1:0").split(":");
  return startWebhookReceiver({ host, port: Number(port), publicUrl: env.WEBHOOK_PUBLIC_URL });
}

function checkResultUrl(url) {
  assert.ok(!url.startsWith(`${baseUrl}/`), `${url} is on the API's origin`);
  if (env.AUDJUST_RESULTS_URL) assert.ok(url.startsWith(env.AUDJUST_RESULTS_URL), url);
}

describe("an Audjust client in Node.js", () => {
  let webhooks;
  let analysis;

  before(async () => {
    webhooks = await webhookReceiver();
    const ack = await client.analyze({ sourceFileUrl, resultWebhook: webhooks.url });
    assert.equal(ack.message, "Request queued.");
    checkResultUrl(ack.resultUrl);
    analysis = { ack, webhook: await webhooks.waitFor(ack.requestId) };
  });

  after(() => webhooks?.close());

  test("a wrong key is refused with the listed message", async () => {
    const wrong = new AudjustClient({ baseUrl, apiKey: "not-a-key" });
    await assert.rejects(wrong.analyze({ sourceFileUrl }), (error) => {
      assert.ok(error instanceof AudjustError);
      assert.ok(error.status >= 400 && error.status < 500);
      assert.equal(error.body.message, "Invalid API Key");
      return true;
    });
  });

  test("the analysis arrives by webhook and at its result URL", async () => {
    const { ack, webhook } = analysis;
    assert.equal(webhook.success, true);
    assert.equal(webhook.requestId, ack.requestId);
    assert.equal(Math.round(webhook.result.tempo), 120);
    assert.deepEqual(await client.fetchResult(ack.resultUrl), webhook);
  });

  test("resize, then export the best edit as WAV", async () => {
    const { similarity, boundaries } = analysis.webhook.result;
    const resized = await client.resize({ similarity, boundaries, targetLengthSeconds: 8 });
    const [best] = bestFirst(resized.result);
    const ack = await client.export({
      sourceFileUrl,
      segmentsGroups: [best.segmentsSeconds],
      exportFormat: "wav",
      resultWebhook: webhooks.url,
    });
    const webhook = await webhooks.waitFor(ack.requestId);
    assert.equal(webhook.success, true);
    assert.deepEqual(webhook.resultUrls, ack.resultUrls);
    checkResultUrl(ack.resultUrls[0]);
    const wav = await client.fetchResult(ack.resultUrls[0]);
    assert.equal(wav.subarray(0, 4).toString("latin1"), "RIFF");
    assert.ok(wav.length > 44 * 1000, `a WAV of ${wav.length} bytes`);
  });

  test("a local file is uploaded, then its sections found and it is analysed", async () => {
    // A file on this machine, as a user would pick one: a song the mock bundles, downloaded.
    const folder = await mkdtemp(join(tmpdir(), "audjust-upload-"));
    const song = join(folder, "pop_120.mp3");
    const download = await fetch(`${baseUrl}/_mock/fixtures/pop_120.mp3`);
    assert.equal(download.status, 200);
    await writeFile(song, Buffer.from(await download.arrayBuffer()));
    let retrievalUrl;
    try {
      retrievalUrl = await client.upload(song);
    } finally {
      await rm(folder, { recursive: true });
    }
    checkResultUrl(retrievalUrl);

    const sections = await client.structure(retrievalUrl);
    assert.equal(sections[0].startMs, 0);
    sections.slice(1).forEach((section, i) => assert.equal(section.startMs, sections[i].endMs));
    assert.ok(Math.abs(sections.at(-1).endMs - 12_000) < 100, "a 12-second song");
    for (const { startMs, endMs, label } of sections) {
      assert.ok(startMs < endMs && Number.isInteger(label) && label >= 0 && label <= 1000);
    }

    const ack = await client.analyze({ sourceFileUrl: retrievalUrl, resultWebhook: webhooks.url });
    const webhook = await webhooks.waitFor(ack.requestId);
    assert.equal(webhook.success, true);
    assert.equal(Math.round(webhook.result.tempo), 120);
  });
});
