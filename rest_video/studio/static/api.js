// Small helpers shared by the pages: requests to the studio's API, the one-line message banner.
export const STATE_HEADER = { "X-Rest-Video-Studio": "1" };

export function showMessage(text) {
  const m = document.getElementById("message");
  if (!m) return;
  m.textContent = text || "";
  m.hidden = !text;
}

async function errorOf(resp) {
  try {
    const body = await resp.json();
    return body.error || `${resp.status} ${resp.statusText}`;
  } catch {
    return `${resp.status} ${resp.statusText}`;
  }
}

// GET or POST JSON; throws an Error whose message is the server's one line.
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const init = { method, headers: { ...headers }, signal };
  if (method !== "GET") Object.assign(init.headers, STATE_HEADER);
  if (body !== undefined) {
    if (body instanceof Blob) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  const resp = await fetch(path, init);
  if (!resp.ok) throw new Error(await errorOf(resp));
  return resp;
}

export async function upload(file, role) {
  const resp = await api(`/api/upload?role=${role}`, {
    method: "POST", body: file, headers: { "X-Filename": encodeURIComponent(file.name) },
  });
  return resp.json();
}

export function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

// The style gallery: shipped styles (and uploaded ones); calls pick(id) on a click.
export function fillGallery(el, styles, selected, pick) {
  el.replaceChildren();
  for (const s of styles) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "thumb" + (s.id === selected ? " selected" : "");
    b.dataset.style = s.id;
    b.title = s.name;
    const img = document.createElement("img");
    img.src = `/api/styles/${encodeURIComponent(s.id)}/thumb`;
    img.alt = s.name;
    const cap = document.createElement("span");
    cap.textContent = s.name;
    b.append(img, cap);
    b.addEventListener("click", () => {
      for (const o of el.querySelectorAll(".thumb")) o.classList.toggle("selected", o === b);
      pick(s.id);
    });
    el.append(b);
  }
}
