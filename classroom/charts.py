"""Plotly figures of the app, drawn from the shared metrics only, as plain plotly.js specs.

A figure here is a ``{"data": [...], "layout": {...}}`` dict in plotly.js's own schema, not a
``plotly.graph_objects.Figure``: building and validating graph objects cost 40-100 ms per figure
(measured: the sphere 42 ms, the curves panel 96 ms), more than a whole tick's drawing budget;
the dicts take about a millisecond. ``plotly.graph_objects.Figure(spec)`` accepts every one of
them (the tests check that). Every figure keeps a fixed ``uirevision`` so a student's zoom or
camera survives the redraws of a live run. Matplotlib stays for the static exports (toy.plots).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from classroom.live import LiveRun
from collapse import metrics
from collapse.criterion import COLLAPSED_STD_SCALED
from toy.plots import principal_plane

Figure = dict[str, object]  # a plotly.js figure spec

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94")
MAX_POINTS = 512  # points drawn per representation picture (of the 1024 held-out points)
# 14 px at least: read on a projector from the back of a room.
FONT = {"family": "Source Sans Pro, Helvetica, Arial, sans-serif", "size": 14, "color": "#31333f"}
ETA_MIN_CENTER = 0.1  # below this |o|, η = o_e·o/|o|² divides by a tiny |o|²: drawn grey
PICTURE_HEIGHT = {False: 420, True: 330}  # one run / two side by side (compact)
CORRELATION_COLOURS = [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]]  # -1 blue, +1 red
GRADIENT_COLOURS = {"basic": "#7f7f7f", "center": "#d62728", "residual": "#1f77b4",
                    "decentering": "#ff9896", "decorrelation": "#aec7e8"}


def _round(values: Sequence[float] | np.ndarray, digits: int = 4) -> list:
    """A JSON-ready (nested) list, NaN and inf as None (plotly.js draws a gap)."""
    array = np.round(np.asarray(values, dtype=float), digits)
    if array.ndim > 1:
        return [_round(row, digits) for row in array]
    return [v if math.isfinite(v) else None for v in array.tolist()]


def _num(value: float, digits: int = 4) -> float | None:
    value = round(float(value), digits)
    return value if math.isfinite(value) else None


def _sphere_wireframe() -> dict[str, list]:
    """Five latitudes and six meridians of the unit sphere as one line trace (None = pen up)."""
    a = np.linspace(0, 2 * math.pi, 37)
    xs: list = []
    ys: list = []
    zs: list = []
    for lat in np.linspace(-60, 60, 5):
        r, h = math.cos(math.radians(lat)), math.sin(math.radians(lat))
        xs += [*_round(r * np.cos(a)), None]
        ys += [*_round(r * np.sin(a)), None]
        zs += [*_round(np.full_like(a, h)), None]
    for lon in np.linspace(0, math.pi, 6, endpoint=False):
        xs += [*_round(np.cos(lon) * np.cos(a)), None]
        ys += [*_round(np.sin(lon) * np.cos(a)), None]
        zs += [*_round(np.sin(a)), None]
    return {"x": xs, "y": ys, "z": zs}


WIREFRAME = _sphere_wireframe()
UNIT_CIRCLE = {"x": _round(np.cos(np.linspace(0, 2 * math.pi, 121))),
               "y": _round(np.sin(np.linspace(0, 2 * math.pi, 121)))}


def camera_beside(o: Sequence[float]) -> dict[str, dict[str, float]]:
    """A plotly camera looking at the sphere from beside the center vector ``o`` (at right
    angles to it, a little from above), so the arrow o is seen along its length rather than
    end-on; for a tiny o, the default oblique view."""
    x, y = float(o[0]), float(o[1])
    horizontal = math.hypot(x, y)
    ex, ey = (-y / horizontal, x / horizontal) if horizontal > 1e-3 else (0.7071, 0.7071)
    return {"eye": {"x": round(1.3 * ex, 4), "y": round(1.3 * ey, 4), "z": 0.45},
            "up": {"x": 0, "y": 0, "z": 1}}


def representation_figure(z: torch.Tensor, labels: torch.Tensor, height: int = 420,
                          camera: Mapping[str, object] | None = None,
                          name: str = "Z") -> Figure:
    """Z = z/|z| (or P, ``name``) on the circle (d = 2), the sphere (d = 3) or an uncentred PCA
    plane (d > 3), coloured by the hidden class, with the center vector o drawn as an arrow;
    ``camera`` (d = 3) defaults to :func:`camera_beside` the current o."""
    z = z[:MAX_POINTS].detach().double()
    u, o = metrics.normalize(z).numpy(), metrics.center(z).numpy()
    colours = [PALETTE[int(k) % len(PALETTE)] for k in labels[:MAX_POINTS].tolist()]
    d = u.shape[1]
    layout: dict[str, object] = {"height": height, "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
                                 "uirevision": "representation", "showlegend": False,
                                 "font": FONT}
    if d == 3:
        data = [
            {"type": "scatter3d", "mode": "lines", "name": "sphere", **WIREFRAME,
             "line": {"color": "#ccc", "width": 1}, "hoverinfo": "skip"},
            {"type": "scatter3d", "mode": "markers", "name": name, "x": _round(u[:, 0]),
             "y": _round(u[:, 1]), "z": _round(u[:, 2]),
             "marker": {"size": 3, "color": colours}},
            {"type": "scatter3d", "mode": "lines+markers+text", "name": "center o",
             "x": [0, _num(o[0])], "y": [0, _num(o[1])], "z": [0, _num(o[2])],
             "text": ["", "o"], "textposition": "top center",
             "line": {"color": "black", "width": 8},
             "marker": {"size": [0, 5], "color": "black"}},
        ]
        axis = {"range": [-1.1, 1.1], "visible": False}  # the wireframe is the frame
        layout["scene"] = {"xaxis": axis, "yaxis": axis, "zaxis": axis, "aspectmode": "cube",
                           "camera": dict(camera or camera_beside(o))}
        return {"data": data, "layout": layout}
    if d == 2:
        xy, oxy, titles = u, o, (f"{name}₁", f"{name}₂")
    else:
        plane, share = principal_plane(u)
        xy, oxy = u @ plane.T, o @ plane.T
        titles = (f"PC1 ({share[0]:.0%} of |{name}|², PCA of d = {d})",
                  f"PC2 ({share[1]:.0%})")
    data = [
        {"type": "scattergl", "mode": "lines", "name": "unit circle", **UNIT_CIRCLE,
         "line": {"color": "#bbb", "width": 1, "dash": "solid" if d == 2 else "dash"},
         "hoverinfo": "skip"},
        {"type": "scattergl", "mode": "markers", "name": name, "x": _round(xy[:, 0]),
         "y": _round(xy[:, 1]), "marker": {"size": 5, "color": colours}},
    ]
    layout["annotations"] = [{"x": _num(oxy[0]), "y": _num(oxy[1]),
                              "ax": 0, "ay": 0, "xref": "x", "yref": "y", "axref": "x",
                              "ayref": "y", "showarrow": True, "arrowhead": 3, "arrowwidth": 3,
                              "text": "o", "name": "center o"}]
    layout["xaxis"] = {"range": [-1.15, 1.15], "title": {"text": titles[0]}, "zeroline": False}
    layout["yaxis"] = {"range": [-1.15, 1.15], "title": {"text": titles[1]}, "zeroline": False,
                       "scaleanchor": "x"}
    layout["margin"] = {"l": 50, "r": 10, "t": 10, "b": 40}
    return {"data": data, "layout": layout}


def _domain(low: float, high: float) -> list[float]:
    return [min(1.0, max(0.0, round(low, 6))), min(1.0, max(0.0, round(high, 6)))]


def _grid(rows: int, cols: int, titles: Sequence[str], hspace: float, vspace: float
          ) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """Axes of a rows x cols grid of subplots (row-major) and their title annotations, as
    plotly's make_subplots lays them out; returns the layout part and each cell's (x, y) ids."""
    width, height = (1 - hspace * (cols - 1)) / cols, (1 - vspace * (rows - 1)) / rows
    layout: dict[str, object] = {"annotations": []}
    cells = []
    for i in range(rows * cols):
        row, col = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        x0 = col * (width + hspace)
        y1 = 1 - row * (height + vspace)
        layout[f"xaxis{suffix}"] = {"domain": _domain(x0, x0 + width), "anchor": f"y{suffix}"}
        layout[f"yaxis{suffix}"] = {"domain": _domain(y1 - height, y1), "anchor": f"x{suffix}"}
        layout["annotations"].append({"text": titles[i], "x": x0 + width / 2, "y": y1,
                                      "xref": "paper", "yref": "paper", "xanchor": "center",
                                      "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": FONT["size"]}})
        cells.append((f"x{suffix}", f"y{suffix}"))
    return layout, cells


def _axis_key(axis_id: str) -> str:
    """The layout key of an axis id: "x2" -> "xaxis2", "y" -> "yaxis"."""
    return f"{axis_id[0]}axis{axis_id[1:]}"


def _hline(cell: tuple[str, str], y: float, colour: str, dash: str) -> dict[str, object]:
    return {"type": "line", "xref": f"{cell[0]} domain", "x0": 0, "x1": 1, "yref": cell[1],
            "y0": y, "y1": y, "line": {"color": colour, "dash": dash, "width": 1.5}}


def _legend(cell: tuple[str, str], layout: Mapping[str, object]) -> dict[str, object]:
    """A legend inside a panel's top-right corner (plotly.js draws several legends per
    figure: ``legend2``, ``legend3``, ... one per panel with more than one line)."""
    x, y = layout[_axis_key(cell[0])]["domain"], layout[_axis_key(cell[1])]["domain"]
    return {"x": x[1], "y": y[1], "xanchor": "right", "yanchor": "top", "xref": "paper",
            "yref": "paper", "bgcolor": "rgba(255,255,255,0.5)", "borderwidth": 0,
            "font": {"size": FONT["size"]}, "tracegroupgap": 0, "itemwidth": 30}


def curves_figure(curves: Mapping[str, Sequence[float]], dim: int,
                  knn: Sequence[tuple[int, float]], chance: float, height: int = 460,
                  columns: int = 3) -> Figure:
    """The decomposition over training, one value per record in ``curves`` (``{metric: [...]}``
    with a ``step`` column): |o|² + mean|r|² = 1, std·√d vs 1, effective rank vs d, loss,
    kNN accuracy vs chance, and η = o_e·o/|o|² (Fig. 5a: < 0 means the extra gradient
    de-centers), grey where |o| < :data:`ETA_MIN_CENTER` (η divides by |o|²), with |o_e| on its
    own axis beside it. Six panels in ``columns`` columns (3: one run; 2: two side by side);
    every panel with more than one line has its legend."""
    rows, wide = math.ceil(6 / columns), columns == 3
    layout, cells = _grid(rows, columns, (  # short titles: 14 px in a third of a column
        "|o|² + mean|r|² = 1" if wide else "|o|² + mean|r|²",
        "std·√d (red: collapse)" if wide else "std·√d", f"effective rank (d = {dim})",
        "loss", "kNN (dotted: chance)" if wide else "kNN", "η = o_e·o/|o|²"),
        hspace=0.09 if wide else 0.26, vspace=0.34 / rows)
    steps = _round(curves.get("step", []), 0)
    legends: dict[int, int] = {}  # panel -> legend number

    def legend_of(cell: int) -> str:
        number = legends.setdefault(cell, len(legends) + 1)
        return "legend" if number == 1 else f"legend{number}"

    def line(cell: int, key: str, name: str, colour: str, y: object = None,
             **extra: object) -> dict[str, object]:
        return {"type": "scatter", "mode": "lines", "x": steps,
                "y": _round(curves[key]) if y is None else y, "name": name,
                "line": {"color": colour}, "xaxis": cells[cell][0], "yaxis": cells[cell][1],
                "legend": legend_of(cell), **extra}

    data: list[dict[str, object]] = []
    shapes = [_hline(cells[1], 1, "gray", "dot"),
              _hline(cells[1], COLLAPSED_STD_SCALED, "#d62728", "dash"),
              _hline(cells[2], dim, "gray", "dot"), _hline(cells[4], chance, "gray", "dot")]
    if "z_center_norm" in curves:
        o2 = np.square(np.asarray(curves["z_center_norm"], dtype=float))
        for y, name, colour in ((o2, "|o|²", "#d62728"), (1 - o2, "mean|r|²", "#1f77b4")):
            data.append(line(0, "z_center_norm", name, colour, y=_round(y),
                             stackgroup="energy"))
    for key, name, colour in (("z_std_scaled", "Z", "#1f77b4"),
                              ("p_std_scaled", "P", "#ff7f0e")):
        if key in curves:
            data.append(line(1, key, name, colour))
    if "z_effective_rank" in curves:
        data.append(line(2, "z_effective_rank", "rank Z", "#2ca02c"))
    if "loss" in curves:
        data.append(line(3, "loss", "loss", "#555"))
    if knn:
        data.append({"type": "scatter", "mode": "lines+markers", "name": "kNN",
                     "x": [s for s, _ in knn], "y": _round([a for _, a in knn]),
                     "line": {"color": "#9467bd"}, "xaxis": cells[4][0], "yaxis": cells[4][1],
                     "legend": legend_of(4)})
    if "grad_eta" in curves:
        eta = np.asarray(curves["grad_eta"], dtype=float)
        center = np.asarray(curves.get("z_center_norm", [1.0] * len(eta)), dtype=float)
        reliable = center >= ETA_MIN_CENTER
        data.append(line(5, "grad_eta", "η", "#8c564b", y=_round(np.where(reliable, eta,
                                                                              np.nan))))
        data.append(line(5, "grad_eta", f"|o| < {ETA_MIN_CENTER:g}", "#c7c7c7",
                         y=_round(np.where(reliable, np.nan, eta))))
        shapes.append(_hline(cells[5], 0, "gray", "dot"))
        shown = [v for v in eta[reliable] if math.isfinite(v)]
        low, high = min([*shown, -0.1]), max([*shown, 0.1])  # keep 0 inside, off the frame
        y6 = _axis_key(cells[5][1])
        layout[y6]["range"] = [low - 0.1 * (high - low), high + 0.1 * (high - low)]
        if "grad_extra_center_norm" in curves:  # |o_e| beside η, on its own right-hand axis
            layout["yaxis7"] = {"overlaying": cells[5][1], "side": "right",
                                "anchor": cells[5][0], "rangemode": "tozero",
                                "showgrid": False, "tickfont": {"color": "#d62728"}}
            data.append({**line(5, "grad_extra_center_norm", "|o_e| →", "#d62728"),
                         "yaxis": "y7", "line": {"color": "#d62728", "dash": "dot"}})
    for cell, top in ((0, 1.02), (1, 1.1), (2, dim + 0.5), (4, 1.02)):
        layout[_axis_key(cells[cell][1])]["range"] = [0, top]
    last = max([s for s in steps if s is not None] + [s for s, _ in knn] + [0])
    layout["xaxis"]["range"] = [0, max(100, last)]  # never an empty -1..1 axis at step 0
    for x, _ in cells[1:]:  # one step axis: zooming one panel zooms them all
        layout[_axis_key(x)]["matches"] = "x"
    for cell in legends:  # a legend where a panel has more than one line
        key = legend_of(cell)
        members = [t for t in data if t.get("legend") == key]
        for trace in members:
            trace["showlegend"] = len(members) > 1
            if len(members) == 1:
                del trace["legend"]
        if len(members) > 1:
            layout[key] = _legend(cells[cell], layout)
    layout.update(height=height, shapes=shapes, uirevision="curves", font=FONT,
                  margin={"l": 40, "r": 45, "t": 30, "b": 30})
    return {"data": data, "layout": layout}


def gradient_figure(parts: Mapping[str, tuple[str, float]], height: int = 200) -> Figure:
    """The gradient the anchor receives now, ``{label: (kind, magnitude)}``: basic vs the extra
    gradient's center (de-centering) and residual (de-correlation) parts (paper §3); for InfoNCE
    also -o/τ and -Σλr/τ (§4). ``kind`` picks the colour."""
    labels = list(parts)
    values = [_num(parts[label][1]) for label in labels]
    data = [{"type": "bar", "orientation": "h", "x": values, "y": labels,
             "marker": {"color": [GRADIENT_COLOURS[parts[label][0]] for label in labels]},
             "text": [f"{parts[label][1]:.3f}" for label in labels], "textposition": "outside",
             "cliponaxis": False}]
    top = max([v for v in values if v is not None] + [1e-6])  # room for the value labels
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 10, "b": 40}, "font": FONT,
              "xaxis": {"title": {"text": "magnitude"}, "range": [0, 1.45 * top]},
              "yaxis": {"autorange": "reversed", "automargin": True}, "uirevision": "gradient"}
    return {"data": data, "layout": layout}


def covariance_figure(z: torch.Tensor, height: int = 260) -> Figure:
    """Correlation heatmap of Z's dimensions and its covariance eigen-spectrum."""
    corr = metrics.correlation(z).numpy()
    spectrum = metrics.eigenspectrum(z).numpy()
    layout, cells = _grid(1, 2, ("correlation", "eigenvalues"), hspace=0.12, vspace=0)
    dims = list(range(1, corr.shape[0] + 1))
    data = [{"type": "heatmap", "z": _round(corr, 3), "x": dims, "y": dims, "zmin": -1, "zmax": 1,
             "colorscale": CORRELATION_COLOURS, "showscale": False,
             "xaxis": cells[0][0], "yaxis": cells[0][1]},
            {"type": "bar", "x": dims, "y": _round(spectrum), "marker": {"color": "#2ca02c"},
             "xaxis": cells[1][0], "yaxis": cells[1][1]}]
    layout["yaxis"]["autorange"] = "reversed"
    if len(dims) <= 8:  # one tick per dimension while they stay readable
        for axis in ("xaxis", "yaxis", "xaxis2"):
            layout[axis]["dtick"] = 1
    layout.update(height=height, showlegend=False, uirevision="covariance", font=FONT,
                  margin={"l": 30, "r": 10, "t": 30, "b": 30})
    return {"data": data, "layout": layout}


_CAMERAS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # run -> {(index, view): camera}


def live_figures_of(run: LiveRun, index: int, view: str = "z", compact: bool = False
                    ) -> dict[str, dict]:
    """Every figure the app draws for run ``index`` of a session, each tick (the app and the
    app benchmark both call this, so the benchmark measures what the page shows).

    ``view`` is the representation the picture shows, "z" or "p" (P = p/|p|, the predictor's
    output; Z where the recipe has none); ``compact`` sizes the figures for two runs side by
    side. The sphere's camera is chosen once per run, beside the first picture's o, then kept
    (a camera that followed o would turn the sphere while the points stand still).
    """
    sim = run.sims[index]
    z, p = sim.representations()
    shown, name = (p, "P") if view == "p" and p is not None else (z, "Z")
    cameras = _CAMERAS.setdefault(run, {})
    if (index, name) not in cameras:
        cameras[(index, name)] = camera_beside(metrics.center(shown[0].double()).tolist())
    figures = {"picture": representation_figure(
        shown[0], sim.test_y[0], height=PICTURE_HEIGHT[compact],
        camera=cameras[(index, name)], name=name)}
    parts = run.gradient_parts(index)
    if parts:
        figures["gradient"] = gradient_figure(parts, height=230 if compact else 200)
    figures["covariance"] = covariance_figure(shown[0], height=240 if compact else 220)
    figures["curves"] = curves_figure(run.series(index), run.config.dim, list(run.knn[index]),
                                      run.chance(), height=560 if compact else 360,
                                      columns=2 if compact else 3)
    return figures
