// A small Audjust API client, as a Node.js service would write one: nothing in it is specific to
// the mock, so the same code runs against the live API. Node 18+ (global fetch), no dependencies.
import { readFile } from "node:fs/promises";
import http from "node:http";

export class AudjustError extends Error {
  constructor(status, body) {
    super(`${status}: ${body?.message ?? "no message"}`);
    this.status = status;
    this.body = body;
  }
}

export class AudjustClient {
  constructor({ baseUrl, apiKey }) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
  }

  // A local file, put where Audjust can read it, as Audjust's example page does: GET /upload with
  // the key names two URLs, then the raw bytes go to storageUrl in a PUT with no key and no
  // content type. The retrievalUrl returned is a sourceFileUrl for every route, for an hour.
  async upload(filePath) {
    const bytes = await readFile(filePath);
    const slot = await this.#send("/upload", { method: "GET" });
    // A Buffer body gets no Content-Type from fetch, and the storage URL needs no key.
    const put = await fetch(slot.storageUrl, { method: "PUT", body: bytes });
    if (!put.ok) {
      throw new AudjustError(put.status, await put.json().catch(() => null));
    }
    return slot.retrievalUrl;
  }

  // The song's sections in order, answered at once: [{ startMs, endMs, label }], labels from 0 to
  // 1000, the closer two the more alike the sections sound.
  async structure(sourceFileUrl) {
    return (await this.#post("/structure", { sourceFileUrl })).sections;
  }

  analyze({ sourceFileUrl, resultWebhook, features = [] }) {
    return this.#post("/analyze", { sourceFileUrl, resultWebhook, features });
  }

  // Without resultWebhook the answer holds the candidates at once.
  resize({ similarity, boundaries, targetLengthSeconds, resultWebhook }) {
    return this.#post("/resize", { similarity, boundaries, targetLengthSeconds, resultWebhook });
  }

  export({ sourceFileUrl, segmentsGroups, exportFormat = "wav", resultWebhook }) {
    return this.#post("/export", { sourceFileUrl, segmentsGroups, exportFormat, resultWebhook });
  }

  // Result URLs are on a host of their own: fetch them as given, never rebuilt from baseUrl.
  async fetchResult(url) {
    const answer = await fetch(url);
    if (!answer.ok) {
      throw new AudjustError(answer.status, { message: `result ${url} is not there` });
    }
    if (url.endsWith(".json")) {
      return answer.json();
    }
    return Buffer.from(await answer.arrayBuffer());
  }

  #post(path, body) {
    return this.#send(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async #send(path, { method, headers = {}, body }) {
    const answer = await fetch(this.baseUrl + path, {
      method,
      headers: { "X-API-Key": this.apiKey, ...headers },
      body,
    });
    const payload = await answer.json();
    if (!answer.ok || payload.success === false) {
      throw new AudjustError(answer.status, payload);
    }
    return payload;
  }
}

// The candidates best first. The API says to rank them by blendedScore; it does not promise to
// send them in that order, so a client sorts them itself.
export function bestFirst(candidates) {
  return [...candidates].sort((a, b) => b.blendedScore - a.blendedScore);
}

// A webhook receiver: the Audjust API POSTs each result to it. `publicUrl` is where the API reaches
// it (a service name in compose, a tunnel for the live API); by default its own address.
export async function startWebhookReceiver({ host = "127.0.0.1", port = 0, publicUrl } = {}) {
  const received = [];
  const waiting = new Set();
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      try {
        received.push(JSON.parse(body));
        response.writeHead(204).end();
      } catch {
        response.writeHead(400).end();
      }
      for (const check of waiting) check();
    });
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  const base = (publicUrl ?? `http://${host}:${address.port}`).replace(/\/+$/, "");
  return {
    url: `${base}/webhook`,
    received,
    waitFor(requestId, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find((payload) => payload.requestId === requestId);
          if (found) {
            waiting.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no webhook for ${requestId} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
