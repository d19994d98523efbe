// The render queue as the server keeps it: pushed over a WebSocket on every change, so a reloaded
// page (or a second tab) shows the same jobs, with progress, cancel, download and a player.
import { api, wsUrl } from "/static/api.js";

function fmt(job) {
  if (job.status === "running" || job.status === "queued") {
    const total = job.total ? `/${job.total}` : "";
    const eta = job.eta == null ? "" : `, ETA ${Math.ceil(job.eta)} s`;
    return `${job.status}: ${job.frames}${total} frames, ${job.fps.toFixed(1)} fps${eta} (${job.percent}%)`;
  }
  if (job.status === "failed") return `failed: ${job.error}`;
  if (job.status === "done") return `done: ${job.frames} frames at ${job.fps.toFixed(1)} fps (100%)`;
  return job.status;
}

function row(job) {
  const li = document.createElement("li");
  li.className = `job ${job.status}`;
  li.dataset.job = job.id;
  li.dataset.status = job.status;
  const title = document.createElement("strong");
  title.textContent = job.title;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = job.percent;
  const text = document.createElement("span");
  text.className = "progress-text";
  text.textContent = fmt(job);
  li.append(title, bar, text);
  if (job.status === "running" || job.status === "queued") {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "cancel";
    b.textContent = "Cancel";
    b.addEventListener("click", () => api(`/api/jobs/${job.id}/cancel`, { method: "POST" }).catch(() => {}));
    li.append(b);
  }
  if (job.download) {
    const a = document.createElement("a");
    a.href = `/api/jobs/${job.id}/download`;
    a.className = "download";
    a.download = job.name;
    a.textContent = `Download ${job.name}`;
    li.append(a);
    if (job.media !== "file") {
      const player = document.createElement(job.media === "video" ? "video" : "img");
      player.src = `/api/jobs/${job.id}/download?inline=1`;
      if (job.media === "video") { player.controls = true; player.muted = true; }
      player.className = "player";
      li.append(player);
    }
  }
  return li;
}

export function watchJobs(list, onError) {
  const shown = new Map();   // id -> status shown (a finished row is not rebuilt: its player keeps playing)
  const render = (jobs) => {
    const seen = new Set();
    for (const job of jobs) {
      seen.add(job.id);
      const old = list.querySelector(`[data-job="${job.id}"]`);
      if (old && shown.get(job.id) === job.status && job.status !== "running") continue;
      const li = row(job);
      if (old) old.replaceWith(li); else list.prepend(li);
      shown.set(job.id, job.status);
    }
    for (const li of [...list.children]) if (!seen.has(li.dataset.job)) li.remove();
  };
  const connect = () => {
    const ws = new WebSocket(wsUrl("/ws/jobs"));
    ws.onmessage = (ev) => render(JSON.parse(ev.data));
    ws.onclose = () => setTimeout(connect, 1000);
  };
  api("/api/jobs").then((r) => r.json()).then(render).catch((e) => onError(e.message));
  connect();
}
