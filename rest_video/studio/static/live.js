// The live page: the studio's camera feed (or this browser's camera, stylized on the server), with
// style and strength controls and the measured frame rate and latency.
import { api, fillGallery, showMessage, wsUrl } from "/static/api.js";
import { openFeed } from "/static/feed.js";

const $ = (id) => document.getElementById(id);
const shown = [];              // [time, latency] of frames shown here
window.__live = { frames: 0, latencies: [], browserFrames: 0 };

function stats(latency) {
  const now = performance.now();
  shown.push([now, latency]);
  while (shown.length && now - shown[0][0] > 5000) shown.shift();
  window.__live.frames += 1;
  window.__live.latencies.push(latency);
  const lat = shown.map((s) => s[1]).sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const span = (shown[shown.length - 1][0] - shown[0][0]) / 1000;
  $("fps").textContent = span > 0 ? ((shown.length - 1) / span).toFixed(1) : "-";
  $("latency").textContent = `${q(0.5).toFixed(0)} / ${q(0.95).toFixed(0)} ms`;
}

let stopFeed = null;
let stopCamera = null;

function serverSource() {
  stopCamera?.();
  stopFeed = openFeed($("feed"), showMessage, stats);
}

async function browserSource() {
  stopFeed?.();
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
  } catch (e) {
    showMessage(`this browser's camera: ${e.message}`);
    return;
  }
  const video = $("camera");
  video.srcObject = stream;
  await video.play();
  const canvas = document.createElement("canvas");
  const q = new URLSearchParams({
    style: state.style, strength: $("strength").value, pipeline: $("pipeline").value,
  });
  const ws = new WebSocket(wsUrl(`/live/camera?${q}`));
  ws.binaryType = "arraybuffer";
  let sent = 0;
  const send = () => {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((b) => {
      sent = performance.now();
      if (ws.readyState === 1) ws.send(b);
    }, "image/jpeg", 0.85);
  };
  ws.onopen = send;
  ws.onmessage = async (ev) => {
    if (typeof ev.data === "string") { showMessage(JSON.parse(ev.data).error); return; }
    const url = URL.createObjectURL(new Blob([new Uint8Array(ev.data, 8)], { type: "image/jpeg" }));
    $("feed").src = url;
    try { await $("feed").decode(); } catch { /* next frame */ }
    window.__live.browserFrames += 1;
    stats(performance.now() - sent);
    send();
  };
  stopCamera = () => { ws.close(); stream.getTracks().forEach((t) => t.stop()); };
}

const state = { style: null };

async function push(body) {
  try {
    await api("/api/live/settings", { method: "POST", body });
    if (stopCamera) browserSource();   // the browser camera's stream takes its settings when it opens
  } catch (e) { showMessage(e.message); }
}

async function poll() {
  try {
    const s = await (await api("/api/live/status")).json();
    $("feed-latency").textContent = s.latency_ms == null ? "-" : `${s.latency_ms} / ${s.latency_p95_ms} ms`;
    $("process").textContent = s.process_ms == null ? "-" : `${s.process_ms} ms (${s.fps} fps made)`;
    window.__live.server = s;
  } catch { /* the next poll */ }
}

async function start() {
  const info = await (await api("/api/info")).json();
  $("camera-name").textContent = info.camera;
  state.style = info.styles[0]?.id;
  fillGallery($("gallery"), info.styles, state.style, (id) => { state.style = id; push({ style: id }); });
  for (const p of info.pipelines) {
    const o = document.createElement("option");
    o.value = o.textContent = p;
    $("pipeline").append(o);
  }
  $("pipeline").value = "default";
  $("pipeline").addEventListener("change", () => push({ pipeline: $("pipeline").value }));
  $("strength").addEventListener("change", () => push({ strength: Number($("strength").value) }));
  $("strength").addEventListener("input", () => {
    $("strength-value").textContent = Number($("strength").value).toFixed(2);
  });
  for (const r of document.querySelectorAll("input[name=source]")) {
    r.addEventListener("change", () => (r.value === "browser" ? browserSource() : serverSource()));
  }
  serverSource();
  setInterval(poll, 1000);
  document.body.dataset.ready = "1";
}

start().catch((e) => showMessage(e.message));
