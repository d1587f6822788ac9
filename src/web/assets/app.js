// kvision live view: cameras from server-sent events (/api/events), each frame drawn on a
// canvas with its boxes; alerts and pipeline health alongside. No external assets.
"use strict";

const COLORS = { person: "#00ff66", car: "#ffb000", bicycle: "#00c8ff", dog: "#ff4fd8",
                 truck: "#ff7a00", bus: "#b388ff", motorcycle: "#40e0d0" };
const OTHER_COLORS = ["#ff5252", "#ffd740", "#69f0ae", "#40c4ff", "#e040fb", "#eeff41"];
const colorOf = (label) => COLORS[label] ||
  OTHER_COLORS[[...label].reduce((h, c) => h + c.charCodeAt(0), 0) % OTHER_COLORS.length];

const $ = (id) => document.getElementById(id);
const cameras = new Map();  // name -> { card, canvas, last, loading, pending }
let largeCamera = null;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

// Draws a frame and its boxes; sets data-* attributes describing what was drawn.
function drawFrame(canvas, image, frame) {
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const line = Math.max(2, Math.round(canvas.width / 320));
  ctx.lineWidth = line;
  ctx.font = `${Math.max(14, Math.round(canvas.width / 40))}px system-ui, "DejaVu Sans", sans-serif`;
  ctx.textBaseline = "bottom";
  // Each tracked object's recent path (where it stood), under the boxes.
  let trails = 0;
  for (const d of frame.detections) {
    const points = d.track && frame.trails ? frame.trails[d.track] : null;
    if (!points || points.length < 2) continue;
    ctx.strokeStyle = colorOf(d.label);
    ctx.globalAlpha = 0.75;
    ctx.beginPath();
    points.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
    ctx.stroke();
    ctx.globalAlpha = 1;
    trails++;
  }
  for (const d of frame.detections) {
    const [x, y, w, h] = d.box;
    const color = colorOf(d.label);
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, w, h);
    const text = `${d.track ? "#" + d.track + " " : ""}${d.label} ${Math.round(d.score * 100)}%`;
    const tw = ctx.measureText(text).width + 6;
    const th = parseInt(ctx.font, 10) + 4;
    const ty = y - th < 0 ? y + th : y;
    ctx.fillStyle = color;
    ctx.fillRect(x - line / 2, ty - th, tw, th);
    ctx.fillStyle = "#000";
    ctx.fillText(text, x + 3 - line / 2, ty - 1);
  }
  canvas.dataset.seq = frame.seq;
  canvas.dataset.boxes = frame.detections.length;
  canvas.dataset.tracks = frame.detections.filter((d) => d.track).length;
  canvas.dataset.trails = trails;
  canvas.dataset.persons = frame.counts.person || 0;
}

function cameraCard(name) {
  let cam = cameras.get(name);
  if (cam) return cam;
  $("empty")?.remove();
  const canvas = el("canvas", { class: "frame", "data-boxes": "0", "data-persons": "0" });
  const rate = el("span", { class: "rate" }, "");
  const state = el("span", { class: "state" }, "");
  const chips = el("div", { class: "chips" });
  const card = el("article", { class: "card", tabIndex: 0, "data-camera": name },
                  el("div", { class: "title" }, el("span", { class: "name" }, name, state), rate), canvas, chips);
  card.addEventListener("click", () => openLarge(name));
  card.addEventListener("keydown", (e) => { if (e.key === "Enter") openLarge(name); });
  const cards = [...$("grid").children];
  const before = cards.find((c) => c.dataset.camera > name);
  $("grid").insertBefore(card, before || null);
  cam = { card, canvas, rate, state, chips, last: null, loading: false, pending: null };
  cameras.set(name, cam);
  return cam;
}

function showFrame(frame) {
  const cam = cameraCard(frame.camera);
  if (cam.loading) { cam.pending = frame; return; }  // only the newest waiting frame is drawn
  cam.loading = true;
  const image = new Image();
  image.onload = () => {
    drawFrame(cam.canvas, image, frame);
    if (largeCamera === frame.camera) drawFrame($("large-canvas"), image, frame);
    finish();
  };
  image.onerror = finish;  // the frame is no longer kept: wait for the next
  image.src = frame.image;
  cam.last = frame;
  cam.rate.textContent = `${frame.fps.toFixed(1)} fps · ${Math.round(frame.latency_ms)} ms` +
    (frame.frames_skipped > 0 ? ` · ${frame.frames_skipped} skipped` : "");
  const counts = Object.entries(frame.counts).sort((a, b) => b[1] - a[1]);
  cam.chips.replaceChildren(...counts.map(([label, n]) =>
    el("span", { class: "chip", "data-label": label },
       el("i", { style: `background:${colorOf(label)}` }), `${label} ${n}`)));
  cam.card.dataset.persons = frame.counts.person || 0;
  if (largeCamera === frame.camera) addHistory(frame);
  function finish() {
    cam.loading = false;
    if (cam.pending) { const next = cam.pending; cam.pending = null; showFrame(next); }
  }
}

// --- the large view: one camera, with a short history of its detections
let history = [];
function openLarge(name) {
  largeCamera = name;
  $("large-title").textContent = name;
  $("large").hidden = false;
  const cam = cameras.get(name);
  if (cam && cam.canvas.width) {
    const big = $("large-canvas");
    big.width = cam.canvas.width; big.height = cam.canvas.height;
    big.getContext("2d").drawImage(cam.canvas, 0, 0);
  }
  fetch(`/api/cameras/${encodeURIComponent(name)}/history`).then((r) => r.json()).then((frames) => {
    history = frames;
    renderHistory();
  });
}
function closeLarge() { largeCamera = null; $("large").hidden = true; }
function addHistory(frame) {
  history.push(frame);
  if (history.length > 120) history.shift();
  renderHistory();
}
function renderHistory() {
  const rows = history.slice(-30).reverse().map((f) => {
    const objects = Object.entries(f.counts).map(([l, n]) => `${n} ${l}`).join(", ") || "none";
    return el("tr", {}, el("td", {}, f.time.slice(11)), el("td", {}, String(f.seq)),
              el("td", {}, objects), el("td", {}, `${Math.round(f.latency_ms)} ms`));
  });
  $("history").tBodies[0].replaceChildren(...rows);
  const last = history[history.length - 1];
  $("large-info").textContent = last ?
    `${last.width}×${last.height} · model ${last.model} · ${history.length} recent frames` : "";
  drawChart();
}
function drawChart() {
  const c = $("chart"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  if (history.length < 2) return;
  const labels = [...new Set(history.flatMap((f) => Object.keys(f.counts)))];
  const max = Math.max(1, ...history.flatMap((f) => Object.values(f.counts)));
  const step = c.width / (history.length - 1);
  ctx.lineWidth = 2;
  for (const label of labels) {
    ctx.strokeStyle = colorOf(label);
    ctx.beginPath();
    history.forEach((f, i) => {
      const y = c.height - 8 - ((f.counts[label] || 0) / max) * (c.height - 24);
      i ? ctx.lineTo(i * step, y) : ctx.moveTo(0, y);
    });
    ctx.stroke();
  }
  ctx.fillStyle = "#8b98a5";
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(`max ${max} · ${labels.join(", ")}`, 6, 14);
}
$("close").addEventListener("click", closeLarge);
$("large").addEventListener("click", (e) => { if (e.target === $("large")) closeLarge(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeLarge(); });

// --- alerts and health
const alertsShown = new Set();  // the snapshot and the stream may both carry an alert
function showAlert(alert, fresh) {
  const key = `${alert.rule}|${alert.camera}|${alert.time}|${alert.frame.seq}`;
  if (alertsShown.has(key)) return;
  alertsShown.add(key);
  const list = $("alerts");
  list.querySelector(".none")?.remove();
  const objects = alert.detections.map((d) => d.label).join(", ");
  const li = el("li", { class: fresh ? "fresh" : "", "data-rule": alert.rule },
                el("div", {}, el("span", { class: "rule" }, alert.rule), ` · ${alert.camera}`),
                el("div", { class: "when" }, `${alert.time.slice(11)} · frame ${alert.frame.seq} · ${objects}`));
  li.addEventListener("click", () => openLarge(alert.camera));
  if (alert.clip) {
    // The clip is written once its time has passed (kvision alert --clips-dir): asked for
    // until it is there, then played in place.
    const video = el("video", { class: "clip", controls: true, muted: true, preload: "metadata",
                                "data-clip": alert.clip.file,
                                title: `${alert.clip.from.slice(11)} – ${alert.clip.to.slice(11)}` });
    video.addEventListener("click", (e) => e.stopPropagation());
    li.append(video);
    loadClip(video, `/clips/${encodeURIComponent(alert.clip.file)}`, 0);
  }
  list.prepend(li);
  while (list.children.length > 50) list.lastChild.remove();
}
function loadClip(video, url, tries) {
  fetch(url, { method: "HEAD" }).then((r) => {
    if (r.ok) {
      video.src = url;
    } else if (r.status === 404 && tries < 120) {
      setTimeout(() => loadClip(video, url, tries + 1), 2000);
    } else {
      video.dataset.error = `${r.status}`;
    }
  }).catch(() => setTimeout(() => loadClip(video, url, tries + 1), 2000));
}
function showStatus(status) {
  const groups = (status.groups || []).map((g) =>
    el("span", { class: "group", title: g.reason || "", "data-group": g.group },
       el("b", {}, g.group), ` lag ${g.lag}`, el("span", { class: `v ${g.verdict}` }, g.verdict)));
  $("health").replaceChildren(...groups);
  // Each camera's health (kvision ingest --cameras): a camera that is not UP is marked on its
  // card, and has a card even before its first frame.
  for (const h of status.cameras || []) {
    const cam = cameraCard(h.camera);
    cam.card.dataset.health = h.state;
    const last = h.last_frame_us ? `last frame ${new Date(h.last_frame_us / 1000).toLocaleTimeString()}` : "no frame yet";
    cam.state.textContent = h.state === "UP" ? "" : h.state;
    cam.state.title = `${h.state}: ${h.reason} · ${last} · ${h.reconnects} reconnect(s)`;
  }
}

// --- the stream
// The stream opens first and its events wait until the snapshots are shown: an alert that
// arrives while the page loads is in one or the other, never in neither.
function connect() {
  const events = new EventSource("/api/events");
  let waiting = [];
  const on = (type, show) => events.addEventListener(type, (e) => {
    const value = JSON.parse(e.data);
    if (waiting) waiting.push(() => show(value)); else show(value);
  });
  on("frame", showFrame);
  on("alert", (a) => showAlert(a, true));
  on("status", showStatus);
  events.onerror = () => {
    $("conn").dataset.state = "down"; $("conn").textContent = "reconnecting…";
    // Logged out (here or elsewhere) or the session expired: back to the login page.
    fetch("/api/me").then((r) => { if (r.status === 401) { events.close(); location.assign("/login"); } });
  };
  events.onopen = () => {
    $("conn").dataset.state = "live"; $("conn").textContent = "live";
    if (!waiting || waiting.loading) return;
    waiting.loading = true;
    Promise.all([
      fetch("/api/cameras").then((r) => r.json()).then((list) => list.forEach(showFrame)),
      fetch("/api/alerts").then((r) => r.json()).then((list) => list.forEach((a) => showAlert(a, false))),
      fetch("/api/status").then((r) => r.json()).then(showStatus),
    ]).finally(() => { const later = waiting; waiting = null; later.forEach((show) => show()); });
  };
}
// With users configured (kvision web --users), who is logged in, and a way out.
fetch("/api/me").then((r) => r.json()).then((me) => {
  if (!me.auth) return;
  $("logout").hidden = false;
  $("logout").querySelector("button").title = `logged in as ${me.user}`;
});
connect();
