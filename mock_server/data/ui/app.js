// The dashboard (docs/dashboard.md): plain DOM and canvas, no library and no build step, so the
// page works offline from the files the package ships.
"use strict";

const TOKEN_KEY = "audjust-mock-admin-token"; // sessionStorage: gone with the tab, never in a URL
const state = { requests: new Map(), jobs: [], chosen: null };
const $ = (id) => document.getElementById(id);

// `?namespace=NAME` in the page's address shows that namespace (docs/control-api.md).
const NAMESPACE = new URLSearchParams(location.search).get("namespace");

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const sent = token ? { "X-Admin-Token": token } : {};
  if (NAMESPACE) sent["X-Mock-Namespace"] = NAMESPACE;
  return sent;
}

function askForToken() {
  $("token-form").hidden = false;
  $("feed-state").textContent = "needs the admin token";
  $("token").focus();
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value);
  $("token-form").hidden = true;
  connect();
});

// The feed is read with fetch, not EventSource, so that the token goes in a header.
async function connect() {
  let response;
  try {
    response = await fetch("/_mock/events", { headers: headers(), cache: "no-store" });
  } catch (error) {
    return retry("disconnected");
  }
  if (response.status === 403) return askForToken();
  if (!response.ok) return retry(`feed answered ${response.status}`);
  $("feed-state").textContent = "live";
  loadScenarios();
  loadKeys();
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (error) {
      return retry("disconnected");
    }
    if (chunk.done) return retry("disconnected");
    buffered += decoder.decode(chunk.value, { stream: true });
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      handle(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
    }
  }
}

function retry(why) {
  $("feed-state").textContent = `${why}; retrying`;
  setTimeout(connect, 1000);
}

function handle(text) {
  const name = /^event: (.*)$/m.exec(text)[1];
  const data = JSON.parse(/^data: (.*)$/m.exec(text)[1]);
  if (name === "reset") {
    state.requests.clear();
    $("requests").replaceChildren();
  } else if (name === "requests") {
    data.forEach(addRequest);
  } else if (name === "jobs") {
    state.jobs = data;
    drawJobs();
    loadKeys(); // a job's price counts once it is queued, and a failure gives it back
  }
}

function statusClass(status) {
  return status !== null && status < 400 ? "status-ok" : "status-bad";
}

function addRequest(entry) {
  state.requests.set(entry.number, entry);
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.number = entry.number;
  if (entry.requestId) button.dataset.requestId = entry.requestId;
  button.setAttribute("aria-pressed", "false");
  const status = entry.status === null ? "no answer" : entry.status;
  const scenarios = entry.scenarios.length ? ` [${entry.scenarios.join(", ")}]` : "";
  button.innerHTML = `<span class="${statusClass(entry.status)}"></span> <span></span>`;
  button.children[0].textContent = status;
  button.children[1].textContent =
    `${entry.method} ${entry.path} · ${entry.key || "no key"} · ${entry.durationMs.toFixed(1)} ms${scenarios}`;
  button.addEventListener("click", () => choose(entry.number));
  const item = document.createElement("li");
  item.append(button);
  $("requests").prepend(item);
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch (error) {
    return text;
  }
}

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    return null;
  }
}

function choose(number) {
  state.chosen = number;
  for (const button of $("requests").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.number) === number));
  }
  const entry = state.requests.get(number);
  $("detail-empty").hidden = true;
  $("detail-body").hidden = false;
  const kept = entry.exchange;
  $("detail-request").textContent = kept ? pretty(kept.request) : "(no longer kept: only the latest 100 are)";
  $("detail-answer").textContent = kept ? pretty(kept.answer) : "";
  showResult(entry);
}

function drawJobs() {
  const list = $("job-list");
  list.replaceChildren();
  for (const job of state.jobs) {
    const item = document.createElement("li");
    item.dataset.requestId = job.requestId;
    const delivered = job.attempts.some((attempt) => attempt.delivered);
    const failed = job.failure === "timed_out" ? "timed out" : job.state;
    const shown = job.state === "succeeded" && delivered ? "delivered" : failed;
    const title = document.createElement("div");
    const how = job.synchronous ? " · answered on its connection" : "";
    title.textContent = `${job.route} · ${job.requestId} · ${shown}${how}`;
    title.className = job.state === "failed" ? "status-bad" : "status-ok";
    item.append(title);
    for (const attempt of job.attempts) {
      const line = document.createElement("div");
      line.className = "attempt";
      const outcome = attempt.status === null ? attempt.error : `HTTP ${attempt.status}`;
      line.textContent = `attempt ${attempt.attempt} → ${attempt.url}: ${outcome}`;
      item.append(line);
    }
    if (job.attempts.length) {
      const resend = document.createElement("button");
      resend.type = "button";
      resend.textContent = "Resend webhook";
      resend.className = "resend";
      resend.addEventListener("click", () => resendWebhook(job.requestId));
      item.append(resend);
    }
    list.append(item);
  }
}

async function resendWebhook(requestId) {
  await fetch(`/_mock/webhooks/${requestId}/resend`, { method: "POST", headers: headers() });
}

// --- results ------------------------------------------------------------------------------------

function hideResults() {
  for (const id of ["analysis-view", "resize-view", "structure-view", "export-view"]) $(id).hidden = true;
  $("result-empty").hidden = false;
}

async function showResult(entry) {
  hideResults();
  const answer = entry.exchange && parsed(entry.exchange.answer);
  const sent = entry.exchange && parsed(entry.exchange.request);
  if (!answer || !entry.requestId) return;
  if (entry.path === "/export" && answer.resultUrls) return showExport(answer.resultUrls, sent);
  if (entry.path === "/resize" && Array.isArray(answer.result)) return showResize(answer.result, sent);
  if (!["/analyze", "/resize", "/structure"].includes(entry.path)) return;
  const response = await fetch(`/_mock/results/${entry.requestId}`, { headers: headers() });
  if (!response.ok) return;
  const shown = await response.json();
  if (entry.path === "/analyze") showAnalysis(shown.document.result, shown.peaks);
  else if (entry.path === "/structure") showStructure(shown.document.sections, shown.peaks);
  else showResize(shown.document.result, sent);
}

function decodeSimilarity(similarity) {
  // The reference's parseSimilarityMapString: a lower triangle, row by row.
  const data = similarity.data;
  const size = Math.round((Math.sqrt(8 * data.length + 1) - 1) / 2);
  const span = similarity.max - similarity.min;
  const matrix = Array.from({ length: size }, () => new Float32Array(size));
  let at = 0;
  for (let row = 0; row < size; row++) {
    for (let col = 0; col <= row; col++) {
      const value = (data.charCodeAt(at++) - similarity.min) / span;
      matrix[row][col] = value;
      matrix[col][row] = value;
    }
  }
  return matrix;
}

function showAnalysis(result, peaks) {
  $("result-empty").hidden = true;
  $("analysis-view").hidden = false;
  $("analysis-facts").textContent =
    `${result.tempo.toFixed(1)} BPM · ${result.duration.toFixed(2)} s · ${result.boundaries.length} beats`;
  drawBeatGrid(result.boundaries, result.duration, peaks || []);
  drawHeatMap(decodeSimilarity(result.similarity), result.boundaries);
}

// The waveform in grey, from the levels the mock kept, on a canvas as wide in pixels as it is
// shown: the browser tests read it back from a screenshot.
function drawWaveform(canvas, peaks) {
  canvas.width = Math.max(1, Math.floor(canvas.getBoundingClientRect().width));
  const context = canvas.getContext("2d");
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#8a96a3";
  for (let x = 0; peaks.length && x < canvas.width; x++) {
    const level = peaks[Math.floor((x / canvas.width) * peaks.length)] / 255;
    const height = Math.round(level * canvas.height);
    context.fillRect(x, Math.round((canvas.height - height) / 2), 1, height);
  }
  return context;
}

// Each beat as one pure red column at round(t / duration * (width - 1)) over the waveform.
function drawBeatGrid(boundaries, duration, peaks) {
  const canvas = $("beat-grid");
  const context = drawWaveform(canvas, peaks);
  context.fillStyle = "#ff0000";
  for (const time of boundaries) {
    const x = Math.round((time / duration) * (canvas.width - 1));
    context.fillRect(x, 0, 1, canvas.height);
  }
}

function drawHeatMap(matrix, boundaries) {
  const canvas = $("heat-map");
  const size = matrix.length;
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext("2d");
  const image = context.createImageData(size, size);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const level = Math.round(matrix[row][col] * 255);
      const at = 4 * (row * size + col);
      image.data.set([level, level, level, 255], at);
    }
  }
  context.putImageData(image, 0, 0);
  let cursor = [0, 0];
  const describe = (row, col) => {
    cursor = [row, col];
    $("heat-hover").textContent =
      `beat ${row} (${boundaries[row].toFixed(2)} s) × beat ${col} (${boundaries[col].toFixed(2)} s): ${matrix[row][col].toFixed(3)}`;
  };
  canvas.onmousemove = (event) => {
    const box = canvas.getBoundingClientRect();
    const col = Math.min(size - 1, Math.floor(((event.clientX - box.left) / box.width) * size));
    const row = Math.min(size - 1, Math.floor(((event.clientY - box.top) / box.height) * size));
    describe(row, col);
  };
  // The keyboard's hover: arrow keys move over the cells.
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  canvas.onkeydown = (event) => {
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const clamp = (value) => Math.max(0, Math.min(size - 1, value));
    describe(clamp(cursor[0] + move[0]), clamp(cursor[1] + move[1]));
  };
}

function showResize(candidates, sent) {
  $("result-empty").hidden = true;
  $("resize-view").hidden = false;
  const boundaries = (sent && sent.boundaries) || [];
  const end = boundaries.length ? boundaries[boundaries.length - 1] : 1;
  const similarity = sent && sent.similarity ? decodeSimilarity(sent.similarity) : null;
  const draw = () => {
    const key = $("lane-order").value;
    const sign = key === "blendedScore" ? -1 : 1; // best blended score first; others lowest first
    const sorted = [...candidates].sort((a, b) => sign * (a[key] - b[key]));
    $("lanes").replaceChildren(...sorted.map((candidate) => lane(candidate, end, similarity)));
  };
  $("lane-order").onchange = draw;
  draw();
}

function lane(candidate, end, similarity) {
  const item = document.createElement("li");
  item.className = "candidate";
  const bar = document.createElement("div");
  bar.className = "lane";
  for (const [start, stop] of candidate.segmentsSeconds) {
    const kept = document.createElement("span");
    kept.className = "kept";
    kept.style.left = `${(100 * start) / end}%`;
    kept.style.width = `${(100 * (stop - start)) / end}%`;
    bar.append(kept);
  }
  const cuts = [];
  const beats = candidate.segmentsBeats;
  for (let i = 1; i < beats.length; i++) {
    const [from, to] = [beats[i - 1][1], beats[i][0]];
    const value = similarity ? similarity[from][to].toFixed(3) : "?";
    cuts.push(`beat ${from}→${to} (similarity ${value})`);
  }
  const facts = document.createElement("p");
  facts.className = "lane-facts";
  facts.textContent =
    `score ${candidate.blendedScore.toFixed(4)} · dissimilarity ${candidate.dissimilarity.toFixed(3)} · ${candidate.durationSeconds} s · cuts: ${cuts.join(", ") || "none"}`;
  item.append(bar, facts);
  return item;
}

// --- structure ----------------------------------------------------------------------------------

// A continuous scale over the labels 0-1000, linear in RGB between these stops (dark blue, teal,
// green, yellow, orange): near labels get near colours, which is what the labels promise, and the
// ends are far apart without coming round again as a hue circle would.
const LABEL_STOPS = [[43, 58, 140], [31, 138, 158], [63, 174, 90], [217, 197, 59], [217, 87, 43]];

function labelColour(label) {
  const at = (Math.max(0, Math.min(1000, label)) / 1000) * (LABEL_STOPS.length - 1);
  const low = Math.min(Math.floor(at), LABEL_STOPS.length - 2);
  const part = at - low;
  return LABEL_STOPS[low].map((value, i) => Math.round(value + part * (LABEL_STOPS[low + 1][i] - value)));
}

const rgbText = ([red, green, blue], alpha = 1) => `rgba(${red}, ${green}, ${blue}, ${alpha})`;
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

function showStructure(sections, peaks) {
  $("result-empty").hidden = true;
  $("structure-view").hidden = false;
  const end = sections.length ? sections[sections.length - 1].endMs : 1;
  const labels = new Set(sections.map((section) => section.label));
  $("structure-facts").textContent =
    `${sections.length} sections · ${labels.size} labels · ${seconds(end)}`;
  drawWaveform($("structure-wave"), peaks || []);
  $("structure-bands").replaceChildren(...sections.map((section) => band(section, end)));
  const steps = Array.from({ length: 11 }, (_, i) => rgbText(labelColour(i * 100)));
  $("label-scale").style.background = `linear-gradient(to right, ${steps.join(", ")})`;
  const rows = sections.map((section, index) => {
    const row = document.createElement("tr");
    for (const text of [index + 1, seconds(section.startMs), seconds(section.endMs), section.label]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = rgbText(labelColour(section.label));
    row.lastChild.prepend(swatch);
    return row;
  });
  $("structure-table").tBodies[0].replaceChildren(...rows);
}

// A section over the waveform: a light wash of its label's colour, and its number on a strip of
// the full colour along the top, in black or white, whichever reads on it.
function band(section, end) {
  const colour = labelColour(section.label);
  const item = document.createElement("span");
  item.className = "band";
  item.dataset.label = section.label;
  item.style.left = `${(100 * section.startMs) / end}%`;
  item.style.width = `${(100 * (section.endMs - section.startMs)) / end}%`;
  item.style.background = rgbText(colour, 0.3);
  const number = document.createElement("span");
  number.className = "band-label";
  number.textContent = section.label;
  number.style.background = rgbText(colour);
  const [red, green, blue] = colour;
  number.style.color = 0.299 * red + 0.587 * green + 0.114 * blue > 140 ? "#000" : "#fff";
  item.append(number);
  return item;
}

function showExport(urls, sent) {
  $("result-empty").hidden = true;
  $("export-view").hidden = false;
  const groups = (sent && sent.segmentsGroups) || [];
  const items = urls.map((url, index) => {
    const item = document.createElement("li");
    const label = document.createElement("div");
    label.textContent = url;
    const player = document.createElement("audio");
    player.controls = true;
    player.preload = "none";
    player.src = url;
    item.append(label, player, marks(groups[index] || []));
    return item;
  });
  if (sent && sent.sourceFileUrl) {
    const item = document.createElement("li");
    const label = document.createElement("div");
    label.textContent = `source: ${sent.sourceFileUrl}`;
    const player = document.createElement("audio");
    player.controls = true;
    player.preload = "none";
    player.src = sent.sourceFileUrl;
    item.append(label, player);
    items.push(item);
  }
  $("players").className = "players";
  $("players").replaceChildren(...items);
}

// An export group's segments over the span they come from, so the cuts show beside the player.
function marks(segments) {
  const bar = document.createElement("div");
  bar.className = "segment-marks";
  const end = Math.max(1, ...segments.map((segment) => segment[1]));
  for (const [start, stop] of segments) {
    const mark = document.createElement("span");
    mark.style.left = `${(100 * start) / end}%`;
    mark.style.width = `${(100 * (stop - start)) / end}%`;
    bar.append(mark);
  }
  return bar;
}

// --- controls: the same routes the plugin uses ----------------------------------------------------

async function control(method, path, body) {
  const init = { method, headers: { ...headers(), "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  return response.json();
}

function showArmed(armed) {
  const names = armed.map((entry) => entry.scenario);
  $("armed").textContent = names.length ? `armed: ${names.join(", ")}` : "nothing armed";
}

// Keys change with the traffic (usage) and with the controls, so they are read again on both.
async function loadKeys() {
  const rows = (await control("GET", "/_mock/keys")).map((account) => {
    const row = document.createElement("tr");
    const limit = account.limit === null ? "no limit" : `of ${account.limit}`;
    for (const text of [account.key, account.plan, `${account.used} ${limit}`]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  $("keys").tBodies[0].replaceChildren(...rows);
}

$("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await control("POST", "/_mock/keys", { key: $("new-key").value, plan: $("new-plan").value });
  $("new-key").value = "";
  loadKeys();
});

async function loadScenarios() {
  const listing = await control("GET", "/_mock/scenarios");
  const select = $("scenario");
  select.replaceChildren(
    ...listing.catalogue.map((spec) => {
      const option = document.createElement("option");
      option.value = spec.name;
      option.textContent = spec.name;
      return option;
    }),
  );
  showArmed(listing.armed);
}

$("arm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await control("POST", "/_mock/scenarios", { name: $("scenario").value, count: 1 });
  showArmed((await control("GET", "/_mock/scenarios")).armed);
});
$("disarm").addEventListener("click", async () => {
  await control("DELETE", "/_mock/scenarios");
  showArmed([]);
});
$("clock-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await control("POST", "/_mock/clock/advance", { seconds: Number($("seconds").value) });
  $("armed").textContent = `mock time is now ${answer.time}`;
});
$("reset").addEventListener("click", async () => {
  await control("POST", "/_mock/reset");
  loadKeys();
});

connect();
