"""Plotly figures that update in place, for a picture that is live rather than rebuilt.

``st.plotly_chart`` derives its element's identity from the figure itself, so in Streamlit 1.67 a
figure whose data changed is a *new* element: every tick the browser tears the chart down and
builds it again (for the sphere, a new WebGL scene). Measured in Chromium without a GPU: 0.4 s
per rebuild of the sphere and 0.25 s for the curves, against 0.05 s and 0.12 s for
``Plotly.react`` on the chart already drawn; while playing, the app showed blank charts.

This is a minimal Streamlit component (the v1 iframe protocol, no build step): one iframe per
run, kept across ticks (its identity is its ``key``), holding one ``<div>`` per figure in a grid
(wide: the picture beside the gradient bars and the covariance, the curves below; narrow: one
column). Each tick sends the figures as JSON; the page keeps only the latest message (ticks the
browser cannot keep up with are dropped, not queued) and calls ``Plotly.react`` for the figures
whose JSON changed, one per animation frame, the picture first. plotly.js is the copy shipped
with the ``plotly`` package, served by the app's own server (no network needed in a lecture
hall).

First picture (issue 10 §2): plotly.js (4.6 MiB) takes 1.4-1.8 s to parse on a quiet 2-core
machine, and running it holds the main thread that the frame shares with Streamlit's page. So
the page first draws the picture's points on a plain ``<canvas>``, under a "loading the
interactive picture…" note: a 3-D scene is seen orthographically along its camera's eye, 2-D
traces are drawn as they are, and the center vector o is drawn too. Only once that frame is
painted does the page ask for plotly.js. The first ``Plotly.react`` of the picture then replaces
the preview. BENCHMARKS.md has the times ("First picture with a 2-D preview").

The 3-D scene is drawn at the screen's pixel ratio (``plotGlPixelRatio``), not plotly's
default of 2, which drew four times the pixels: in Chromium without a GPU (software WebGL,
whose every frame the page's main thread waits to read back) a lone session's picture went from
6.3 to 7.1-7.3 updates/s (BENCHMARKS.md, "Issue 10, third round").

While playing, the page sends the curves at most every ``HOLD_S["curves"]`` s
(:func:`held_back`): an area sent as None is kept as the frame last received it. The curves
were 63 of the 94 KB a page received per update; a playing page's websocket went from 855 to
398 KB/s (BENCHMARKS.md, "Issue 10, fifth round"), which matters on a classroom's Wi-Fi.

Known limit (Streamlit 1.67's frontend): right after Play or Pause, the switch between full runs
and the fragment's timed runs sometimes drops the iframe and mounts it again (about one start in
three, in Chromium on this machine). The new frame starts afresh, preview first, while plotly.js
loads again. Steady play keeps the frame.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import plotly
from plotly.offline import get_plotlyjs
from streamlit.components import v1 as components

if TYPE_CHECKING:  # charts imports torch, which the app's server does not (classroom/pool.py)
    from classroom.charts import Figure


INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8">
<style>
html, body { margin: 0; overflow: hidden; background: transparent; }
/* Wide (one run): the picture beside the gradient bars and the covariance, curves below.
   Narrow (two runs side by side, a phone): one column. */
#figures { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
           grid-template-areas: "picture gradient" "picture covariance" "curves curves"; }
@media (max-width: 760px) {
  #figures { grid-template-columns: minmax(0, 1fr);
             grid-template-areas: "picture" "gradient" "covariance" "curves"; }
}
#preview { grid-area: picture; position: relative; }
#preview canvas { display: block; width: 100%; }
#preview span { position: absolute; left: 8px; bottom: 6px; color: #808495;
                font: 14px "Source Sans Pro", Helvetica, Arial, sans-serif; }
</style></head>
<body><div id="figures"></div><script>
"use strict";
const CONFIG = {displayModeBar: false, responsive: true,
                plotGlPixelRatio: Math.max(1, Math.min(4, window.devicePixelRatio || 1))};
const root = document.getElementById("figures");
const send = (type, data) =>
  window.parent.postMessage(Object.assign({isStreamlitMessage: true, type: type}, data), "*");
let latest = null, scheduled = false, height = -1, preview = null;
const drawn = {};
function fitHeight() {
  const h = root.scrollHeight;
  if (h !== height) { height = h; send("streamlit:setFrameHeight", {height: h}); }
}
function schedule() {
  if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
}

// The first frame, before plotly.js (4.6 MiB, 1.4-1.8 s to parse) has loaded: the picture's
// points on a plain canvas, a 3-D scene seen orthographically along its camera's eye.
function axes(layout) {
  const eye = ((layout.scene || {}).camera || {}).eye || {x: 1.25, y: 1.25, z: 1.25};
  const unit = (v) => { const n = Math.hypot(...v) || 1; return v.map((a) => a / n); };
  const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                           a[0] * b[1] - a[1] * b[0]];
  const back = unit([eye.x, eye.y, eye.z]);  // from the sphere's centre towards the viewer
  const right = unit(cross([0, 0, 1], back));
  return [right, cross(back, right)];
}
function drawPreview(fig) {
  if (!preview) {
    preview = document.createElement("div");
    preview.id = "preview";
    preview.innerHTML = "<canvas></canvas><span>loading the interactive picture\u2026</span>";
    root.appendChild(preview);
  }
  const canvas = preview.firstChild, ratio = window.devicePixelRatio || 1;
  const width = preview.clientWidth, h = fig.layout.height || 420;
  canvas.style.height = h + "px";
  canvas.width = Math.round(width * ratio); canvas.height = Math.round(h * ratio);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  const [right, up] = axes(fig.layout);
  const scale = Math.min(width, h) / 2.4;
  const at = (t, i) => {
    if (t.x[i] === null || t.y[i] === null) return null;
    if (t.type !== "scatter3d") return [width / 2 + scale * t.x[i], h / 2 - scale * t.y[i]];
    const p = [t.x[i], t.y[i], t.z[i]];
    const dot = (v) => v[0] * p[0] + v[1] * p[1] + v[2] * p[2];
    return [width / 2 + scale * dot(right), h / 2 - scale * dot(up)];
  };
  const label = (text, q) => {
    if (!text || !q) return;
    ctx.fillStyle = "black"; ctx.font = "14px sans-serif"; ctx.fillText(text, q[0] + 4, q[1] - 4);
  };
  let points = 0;
  for (const t of fig.data) {
    const pick = (v, i, fallback) => (Array.isArray(v) ? v[i] : v) ?? fallback;
    if ((t.mode || "").includes("lines")) {
      ctx.strokeStyle = (t.line || {}).color || "#888";
      ctx.lineWidth = Math.min((t.line || {}).width || 1, 4);
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < t.x.length; i++) {
        const q = at(t, i);
        if (!q) { pen = false; continue; }
        if (pen) ctx.lineTo(...q); else ctx.moveTo(...q);
        pen = true;
      }
      ctx.stroke();
    }
    if ((t.mode || "").includes("markers")) {
      const m = t.marker || {};
      for (let i = 0; i < t.x.length; i++) {
        const q = at(t, i), size = pick(m.size, i, 6);
        if (!q || !size) continue;
        ctx.fillStyle = pick(m.color, i, "#1f77b4");
        ctx.beginPath(); ctx.arc(q[0], q[1], size / 2 + 0.5, 0, 2 * Math.PI); ctx.fill();
        points += 1;
      }
    }
    if ((t.mode || "").includes("text")) t.x.forEach((_, i) => label(pick(t.text, i), at(t, i)));
  }
  for (const a of fig.layout.annotations || []) {  // o in 2-D: an arrow from (ax, ay)
    if (a.axref !== "x" || a.x === null) continue;
    const t = {x: [a.ax, a.x], y: [a.ay, a.y]}, [tail, head] = [at(t, 0), at(t, 1)];
    ctx.strokeStyle = "black"; ctx.lineWidth = 3;
    ctx.beginPath(); ctx.moveTo(...tail); ctx.lineTo(...head); ctx.stroke();
    label(a.text, head);
  }
  preview.dataset.points = points;
  fitHeight();
}

// One changed figure per animation frame, the picture first: the sphere shows before the
// panels on a first load, and a slow browser spreads a tick's redraws over a few frames.
function draw() {
  scheduled = false;
  const figures = latest;  // an area's text, or null: not yet received
  for (const div of [...root.children]) {
    if (div.id !== "preview" && !(div.id in figures)) {
      Plotly.purge(div); div.remove(); delete drawn[div.id];
    }
  }
  for (const [area, text] of Object.entries(figures)) {
    if (text === null || drawn[area] === text) continue;
    let div = document.getElementById(area);
    if (!div) {
      div = document.createElement("div");
      div.id = area; div.className = "figure"; div.style.gridArea = area;
      root.appendChild(div);
    }
    const fig = JSON.parse(text);
    const done = Plotly.react(div, fig.data, fig.layout, CONFIG);
    if (area === "picture" && preview) {  // the preview stays beneath until Plotly has drawn
      const old = preview;
      preview = null;
      Promise.resolve(done).finally(() => { old.remove(); fitHeight(); });
    }
    drawn[area] = text;
    break;
  }
  fitHeight();
  if (Object.entries(figures).some(([area, text]) => text !== null && drawn[area] !== text)) {
    schedule();
  }
}
new ResizeObserver(fitHeight).observe(root);
window.addEventListener("message", (event) => {
  const message = event.data;
  if (!message || message.type !== "streamlit:render") return;
  // An area sent as null was held back (unchanged for the page): keep the latest text of it.
  const next = {};
  for (const [area, text] of Object.entries(message.args.figures)) {
    next[area] = text !== null ? text : ((latest || {})[area] ?? null);
  }
  latest = next;
  if (typeof Plotly !== "undefined") { schedule(); return; }
  if (latest.picture) drawPreview(JSON.parse(latest.picture));
  loadPlotly();
});
// plotly.js is asked for once the first frame has been painted: the page shares its main
// thread with Streamlit's, which running plotly.js holds for 1.4-1.8 s.
let script = null;
function loadPlotly() {
  if (script) return;
  script = document.createElement("script");
  script.src = "plotly.min.js";
  script.onload = schedule;
  script.onerror = () => {
    if (preview) preview.lastChild.textContent = "the interactive picture could not be loaded";
  };
  requestAnimationFrame(() => setTimeout(() => document.head.appendChild(script), 0));
}
send("streamlit:componentReady", {apiVersion: 1});
</script></body></html>
"""

AREAS = ("picture", "gradient", "covariance", "curves")  # the places of the page's grid
# While playing, the curves go to the page at most twice a second: they are 63 of the 94 KB a
# page receives per update (BENCHMARKS.md, "Issue 10, fifth round"), and gain one point a tick.
HOLD_S = {"curves": 0.5}


def _asset_dir() -> Path:
    """A folder with the page and plotly.js, written once per plotly version (atomically, so
    several server processes may race)."""
    digest = hashlib.sha1(f"{plotly.__version__}\n{INDEX_HTML}".encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"simsiam-collapse-figures-{digest}"
    folder.mkdir(exist_ok=True)
    for name, text in (("index.html", INDEX_HTML), ("plotly.min.js", None)):
        path = folder / name
        if not path.exists():
            part = path.with_suffix(f".{os.getpid()}.part")
            part.write_text(get_plotlyjs() if text is None else text, encoding="utf-8")
            os.replace(part, path)
    return folder


_FOLDER: Path | None = None


def live_figures(figures: Mapping[str, Figure | str], key: str) -> None:
    """Draw ``figures`` (``{area: plotly.js spec}``, a spec as a dict or already as JSON text;
    areas from :data:`AREAS`) in one component
    that keeps its charts across reruns: the same ``key`` on the next tick updates them in
    place, and an area left out is removed."""
    global _FOLDER
    unknown = sorted(set(figures) - set(AREAS))
    if unknown:
        raise ValueError(f"unknown figure area(s) {unknown}; valid: {', '.join(AREAS)}")
    if _FOLDER is None:
        _FOLDER = _asset_dir()
    # Declared on every call (a dict insert): the registry belongs to the Streamlit runtime,
    # which the first import may have preceded (tests run several runtimes in one process).
    component = components.declare_component("live_figures", path=str(_FOLDER))
    component(figures={area: spec if spec is None or isinstance(spec, str) else
                       json.dumps(spec, separators=(",", ":"), allow_nan=False)
                       for area, spec in figures.items()}, key=key, default=None)


def held_back(figures: Mapping[str, str], sent: dict[str, float], now: float,
              playing: bool) -> dict[str, str | None]:
    """The figures to send on this rerun: each area, except that while playing an area of
    :data:`HOLD_S` sent less than its interval ago goes as None (the frame keeps what it has).
    ``sent`` (area -> time last sent) is updated. Paused, every area goes, so the page ends on
    the run's last state."""
    out: dict[str, str | None] = {}
    for area, text in figures.items():
        if playing and now - sent.get(area, -math.inf) < HOLD_S.get(area, 0.0):
            out[area] = None
        else:
            out[area], sent[area] = text, now
    return out
