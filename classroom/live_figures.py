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

Known limit (Streamlit 1.67's frontend): right after Play or Pause, the switch between full runs
and the fragment's timed runs sometimes drops the iframe and mounts it again (about one start in
three, in Chromium on this machine): the picture blanks once while plotly.js loads again.
Steady play keeps it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import plotly
from plotly.offline import get_plotlyjs
from streamlit.components import v1 as components

from classroom.charts import Figure

INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><script src="plotly.min.js"></script>
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
</style></head>
<body><div id="figures"></div><script>
"use strict";
const CONFIG = {displayModeBar: false, responsive: true};
const root = document.getElementById("figures");
const send = (type, data) =>
  window.parent.postMessage(Object.assign({isStreamlitMessage: true, type: type}, data), "*");
let latest = null, scheduled = false, height = -1;
const drawn = {};
function fitHeight() {
  const h = root.scrollHeight;
  if (h !== height) { height = h; send("streamlit:setFrameHeight", {height: h}); }
}
function schedule() {
  if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
}
// One changed figure per animation frame, the picture first: the sphere shows before the
// panels on a first load, and a slow browser spreads a tick's redraws over a few frames.
function draw() {
  scheduled = false;
  const figures = latest;
  for (const div of [...root.children]) {
    if (!(div.id in figures)) { Plotly.purge(div); div.remove(); delete drawn[div.id]; }
  }
  for (const [area, text] of Object.entries(figures)) {
    if (drawn[area] === text) continue;
    let div = document.getElementById(area);
    if (!div) {
      div = document.createElement("div");
      div.id = area; div.className = "figure"; div.style.gridArea = area;
      root.appendChild(div);
    }
    const fig = JSON.parse(text);
    Plotly.react(div, fig.data, fig.layout, CONFIG);
    drawn[area] = text;
    break;
  }
  fitHeight();
  if (Object.entries(figures).some(([area, text]) => drawn[area] !== text)) schedule();
}
new ResizeObserver(fitHeight).observe(root);
window.addEventListener("message", (event) => {
  const message = event.data;
  if (!message || message.type !== "streamlit:render") return;
  latest = message.args.figures;
  schedule();
});
send("streamlit:componentReady", {apiVersion: 1});
</script></body></html>
"""

AREAS = ("picture", "gradient", "covariance", "curves")  # the places of the page's grid


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
    component(figures={area: spec if isinstance(spec, str) else
                       json.dumps(spec, separators=(",", ":"), allow_nan=False)
                       for area, spec in figures.items()}, key=key, default=None)
