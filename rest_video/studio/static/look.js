// The look page: uploads, the style gallery, the preview (LUT while a slider moves, the full network
// once it rests), compare styles, and the render queue.
import { api, fillGallery, showMessage, upload } from "/static/api.js";
import { watchJobs } from "/static/jobs.js";

const $ = (id) => document.getElementById(id);
const REST_MS = 350;           // a slider still this long is "at rest": the full network renders
const state = { content: null, style: null, uploads: [], styles: [], restTimer: null };
window.__studio = { previewTimes: [], previews: 0, lastQuality: null };

function current() {
  return state.uploads.find((u) => u.id === state.content);
}

function previewUrl(quality, style = state.style) {
  const q = new URLSearchParams({
    content: state.content, style, frame: $("frame").value, strength: $("strength").value,
    pipeline: $("pipeline").value, quality,
  });
  return `/api/preview?${q}`;
}

// A LUT preview follows the slider (one in flight, the newest value queued behind it); a
// full-network preview starts when the slider rests and is dropped if the slider moves again.
// Whatever arrives, only a picture newer than the one shown replaces it.
let move = 0;             // bumps on every change of what the preview shows
let seq = 0;
let shownSeq = 0;
let lutBusy = false;
let lutQueued = false;
let fullAbort = null;     // the full-network request in flight, and the move it is for
let fullMove = -1;

async function preview(quality) {
  if (!state.content || !state.style) return;
  const forMove = move;
  const ctl = new AbortController();
  if (quality === "lut") {
    if (fullAbort && fullMove >= forMove) return;   // the full picture of this very state is coming
    if (lutBusy) { lutQueued = true; return; }
    fullAbort?.abort();
    lutBusy = true;
  } else {
    fullAbort?.abort();
    fullAbort = ctl;
    fullMove = forMove;
  }
  const my = ++seq;
  const started = performance.now();
  try {
    const resp = await api(previewUrl(quality), { signal: ctl.signal });
    const blob = await resp.blob();
    if (my < shownSeq) return;           // a newer picture is already shown
    const img = $("stylized");
    const old = img.src;
    img.src = URL.createObjectURL(blob);
    await img.decode();
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    shownSeq = my;
    const ms = performance.now() - started;
    window.__studio.previewTimes.push({ quality, ms });
    window.__studio.previews += 1;
    window.__studio.lastQuality = quality;
    $("preview-info").textContent = `${quality === "lut" ? "LUT preview" : "full network"}: ` +
      `${ms.toFixed(0)} ms (server ${resp.headers.get("x-preview-ms")} ms), ` +
      `${$("pipeline").value}, strength ${Number($("strength").value).toFixed(2)}`;
    showMessage("");
  } catch (e) {
    if (e.name !== "AbortError") showMessage(e.message);
  } finally {
    if (quality === "lut") {
      lutBusy = false;
      if (lutQueued) { lutQueued = false; preview("lut"); }
    } else if (fullAbort === ctl) {
      fullAbort = null;
    }
  }
}

function moved() {
  move += 1;
  preview("lut");
  clearTimeout(state.restTimer);
  state.restTimer = setTimeout(() => preview("full"), REST_MS);
}

async function showOriginal() {
  if (!state.content) return;
  const q = new URLSearchParams({ content: state.content, frame: $("frame").value });
  try {
    const resp = await api(`/api/frame?${q}`);
    $("original").src = URL.createObjectURL(await resp.blob());
  } catch (e) { showMessage(e.message); }
}

function pickContent(id) {
  state.content = id;
  const u = current();
  $("content-select").value = id;
  $("frame").max = Math.max(0, (u?.frames || 1) - 1);
  $("frame").value = 0;
  $("frame-value").textContent = "0";
  $("render").textContent = u?.kind === "image" ? "Render photo" : "Render video";
  showOriginal();
  moved();
}

function fillUploads() {
  const sel = $("content-select");
  sel.replaceChildren();
  for (const u of state.uploads) {
    const o = document.createElement("option");
    o.value = u.id;
    o.textContent = `${u.name} (${u.width}x${u.height}${u.kind === "video" ? `, ${u.frames} frames` : ""})`;
    sel.append(o);
  }
  sel.hidden = state.uploads.length === 0;
}

function gallery() {
  fillGallery($("gallery"), state.styles, state.style, (id) => { state.style = id; moved(); });
}

async function onFile(file, role) {
  if (!file) return;
  showMessage("");
  $("preview-info").textContent = `uploading ${file.name}...`;
  try {
    const u = await upload(file, role);
    if (role === "content") {
      state.uploads.push(u);
      fillUploads();
      pickContent(u.id);
    } else {
      state.styles.push({ id: u.id, name: u.name });
      state.style = u.id;
      gallery();
      moved();
    }
  } catch (e) {
    showMessage(e.message);
    $("preview-info").textContent = "";
  }
}

function dropZone(zone, input, role) {
  input.addEventListener("change", () => { onFile(input.files[0], role); input.value = ""; });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    onFile(e.dataTransfer.files[0], role);
  });
}

async function compare() {
  const box = $("compare");
  if (!state.content) { showMessage("upload a video or photo first"); return; }
  box.hidden = false;
  box.replaceChildren();
  for (const s of state.styles) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    const cap = document.createElement("figcaption");
    cap.textContent = s.name;
    fig.append(img, cap);
    box.append(fig);
    try {
      const resp = await api(previewUrl("lut", s.id));
      img.src = URL.createObjectURL(await resp.blob());
    } catch (e) { showMessage(e.message); }
  }
}

async function submit(kind) {
  if (kind !== "batch" && !state.content) { showMessage("upload a video or photo first"); return; }
  const body = { kind, content: state.content, style: state.style, strength: Number($("strength").value),
    pipeline: $("pipeline").value, contents: state.uploads.map((u) => u.id) };
  try {
    await api("/api/jobs", { method: "POST", body });
    showMessage("");
  } catch (e) { showMessage(e.message); }
}

async function start() {
  const info = await (await api("/api/info")).json();
  state.styles = info.styles.concat(info.uploads.filter((u) => u.role === "style")
    .map((u) => ({ id: u.id, name: u.name })));
  state.style = info.styles[0]?.id;
  state.uploads = info.uploads.filter((u) => u.role === "content");
  for (const p of info.pipelines) {
    const o = document.createElement("option");
    o.value = o.textContent = p;
    $("pipeline").append(o);
  }
  $("pipeline").value = info.pipelines.includes("default") ? "default" : info.pipelines[0];
  gallery();
  fillUploads();
  if (state.uploads.length) pickContent(state.uploads[state.uploads.length - 1].id);
  dropZone($("content-drop"), $("content-file"), "content");
  dropZone($("style-drop"), $("style-file"), "style");
  $("content-select").addEventListener("change", (e) => pickContent(e.target.value));
  $("strength").addEventListener("input", () => {
    $("strength-value").textContent = Number($("strength").value).toFixed(2);
    moved();
  });
  $("frame").addEventListener("input", () => {
    $("frame-value").textContent = $("frame").value;
    showOriginal();
    moved();
  });
  $("pipeline").addEventListener("change", moved);
  $("split").addEventListener("input", () => {
    $("stylized").style.clipPath = `inset(0 0 0 ${$("split").value}%)`;
  });
  $("stylized").style.clipPath = "inset(0 0 0 50%)";
  $("compare-button").addEventListener("click", compare);
  $("render").addEventListener("click", () => submit("render"));
  $("cube").addEventListener("click", () => submit("cube"));
  $("batch").addEventListener("click", () => submit("batch"));
  watchJobs($("jobs"), showMessage);
  document.body.dataset.ready = "1";
}

start().catch((e) => showMessage(e.message));
