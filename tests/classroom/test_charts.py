"""Tests for classroom.charts: every figure is a valid plotly spec that survives JSON, the
picture's trace types and its center arrow (anchored on the mean of Z), the curve panels."""

import json
import math

import plotly.graph_objects as go
import pytest
import torch

from classroom import charts
from classroom.controls import DEFAULTS, config_of
from classroom.live import LiveRun
from collapse import metrics
from collapse.criterion import COLLAPSED_STD_SCALED
from collapse.recipe import preset


def _valid(spec):
    """A spec plotly accepts as a Figure and that serialises as strict JSON (no NaN)."""
    go.Figure(spec)  # raises on any property plotly.js does not know
    json.dumps(spec, allow_nan=False)
    return spec


def _points(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 5, (n,), generator=g)


def _arrow_tip(spec, d):
    if d == 3:
        (arrow,) = [t for t in spec["data"] if t.get("name") == "center o"]
        return [arrow[axis][1] for axis in "xyz"]
    (arrow,) = [a for a in spec["layout"]["annotations"] if a.get("text") == "o"]
    assert arrow["showarrow"]
    assert (arrow["ax"], arrow["ay"]) == (0, 0)  # drawn from the origin
    return [arrow["x"], arrow["y"]]


@pytest.mark.parametrize(("d", "trace_type"), [(2, "scattergl"), (3, "scatter3d"),
                                               (16, "scattergl")])
def test_representation_figure_per_dimension(d, trace_type):
    z, labels = _points(700, d)
    spec = _valid(charts.representation_figure(z, labels))
    assert {t["type"] for t in spec["data"]} == {trace_type}
    (points,) = [t for t in spec["data"] if t.get("name") == "Z"]
    assert len(points["x"]) == charts.MAX_POINTS
    assert len(points["marker"]["color"]) == charts.MAX_POINTS
    tip = _arrow_tip(spec, d)
    o = metrics.center(z[:charts.MAX_POINTS].double()).numpy()
    if d <= 3:
        assert tip == pytest.approx(o.tolist(), abs=1e-3)
    else:  # the PCA plane keeps the length of o when it dominates; never longer than o
        assert math.hypot(*tip) <= float((o**2).sum() ** 0.5) + 1e-3
    if d == 3:
        assert spec["layout"]["scene"]["aspectmode"] == "cube"
    else:
        assert spec["layout"]["yaxis"]["scaleanchor"] == "x"  # a circle stays round


@pytest.mark.parametrize("d", [2, 3, 16])
def test_a_collapsed_representation_puts_the_arrow_on_the_points(d):
    z = torch.ones(50, d) + 1e-3 * _points(50, d)[0]  # every Z at one point: |o| = 1
    spec = _valid(charts.representation_figure(z, torch.zeros(50, dtype=torch.long)))
    assert math.hypot(*_arrow_tip(spec, d)) == pytest.approx(1.0, abs=1e-3)


def _axis_key(axis_id):  # "x2" -> "xaxis2", "y" -> "yaxis"
    return f"{axis_id[0]}axis{axis_id[1:]}"


def test_curves_figure_has_its_six_panels_and_reference_lines():
    run = LiveRun([preset("simsiam")], config_of(DEFAULTS), seed=0)
    for _ in range(3):
        run.tick(budget_s=0.0)
    series = run.series(0)
    assert math.isnan(series["loss"][0])  # before the first step: drawn as a gap
    spec = _valid(charts.curves_figure(series, 3, list(run.knn[0]), run.chance()))
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert len(titles) == 6
    for word in ("|o|² + mean|r|²", "std·√d", "effective rank", "loss", "kNN", "η ="):
        assert sum(word in t for t in titles) == 1, word
    used = {(t["xaxis"], t["yaxis"]) for t in spec["data"]}
    assert {x for x, _ in used} == {"x", *(f"x{i}" for i in range(2, 7))}  # a curve each
    for x, y in used - {("x6", "y7")}:  # y7: |o_e|'s own axis over the η panel
        assert spec["layout"][_axis_key(x)]["anchor"] == y
        if x != "x":
            assert spec["layout"][_axis_key(x)]["matches"] == "x"  # one shared step axis
    lines = {(s["yref"], s["y0"]) for s in spec["layout"]["shapes"]}
    assert {("y2", 1), ("y2", COLLAPSED_STD_SCALED), ("y3", 3), ("y5", run.chance())} <= lines
    (o2,) = [t for t in spec["data"] if t["name"] == "|o|²"]
    assert o2["y"][-1] == pytest.approx(run.latest(0)["z_center_norm"] ** 2, abs=1e-3)
    assert len(o2["x"]) == len(run.records[0])


def test_curves_figure_draws_what_the_recipe_records():
    spec = _valid(charts.curves_figure({"step": [0.0], "z_std_scaled": [1.0]}, 2, [], 0.1))
    assert [t["name"] for t in spec["data"]] == ["Z"]
    assert spec["layout"]["xaxis"]["range"] == [0, 100]  # step 0: not an empty -1..1 axis


def _fonts(spec):
    """Every font size the layout sets (its own, titles, legends, annotations)."""
    layout = spec["layout"]
    sizes = [layout["font"]["size"]]
    sizes += [a["font"]["size"] for a in layout.get("annotations", []) if "font" in a]
    sizes += [v["font"]["size"] for k, v in layout.items() if k.startswith("legend")]
    return sizes


@pytest.mark.parametrize("compact", [False, True])
def test_live_figures_have_legends_on_multi_line_panels_and_readable_labels(compact):
    run = LiveRun([preset("simsiam")], config_of(DEFAULTS), seed=0)
    run.tick(steps=20)
    figures = charts.live_figures_of(run, 0, compact=compact)
    for spec in figures.values():
        _valid(spec)
        assert min(_fonts(spec)) >= 14
    curves = figures["curves"]
    panels: dict = {}
    for trace in curves["data"]:
        panels.setdefault(trace["xaxis"], []).append(trace)
    multi = [traces for traces in panels.values() if len(traces) > 1]
    assert len(multi) >= 3  # energy (|o|², mean|r|²), std (Z, P), η (+ grey, |o_e|)
    for traces in multi:
        (legend,) = {t["legend"] for t in traces}
        assert legend in curves["layout"]
        assert all(t["showlegend"] for t in traces)
    columns = {curves["layout"][k]["domain"][0] for k in curves["layout"]
               if k.startswith("xaxis")}
    assert len(columns) == (2 if compact else 3)


def test_eta_is_grey_below_the_stated_center_norm_with_o_e_beside_it():
    curves = {"step": [0.0, 1.0, 2.0, 3.0], "z_center_norm": [0.5, 0.05, 0.5, 0.02],
              "grad_eta": [-0.4, 9.0, -0.3, -7.0], "grad_extra_center_norm": [0.1] * 4}
    spec = _valid(charts.curves_figure(curves, 3, [], 0.1))
    by_name = {t["name"]: t for t in spec["data"]}
    assert by_name["η"]["y"] == [-0.4, None, -0.3, None]
    assert by_name[f"|o| < {charts.ETA_MIN_CENTER:g}"]["y"] == [None, 9.0, None, -7.0]
    assert by_name["|o_e| →"]["yaxis"] == "y7"
    low, high = spec["layout"]["yaxis6"]["range"]
    assert high < 1  # the spikes at tiny |o| do not set the scale
    assert low > -1


def test_the_camera_looks_at_o_from_the_side():
    for o in ([0.5, 0.5, 0.5], [0.0, -0.3, 0.1], [0.0, 0.0, 0.9]):
        eye = charts.camera_beside(o)["eye"]
        direction = [eye["x"], eye["y"], 0.0]
        assert abs(sum(a * b for a, b in zip(direction, [*o[:2], 0.0], strict=True))) < 1e-3
    z = torch.tensor([[1.0, 1.0, 1.0]]).repeat(10, 1) + 0.01 * _points(10, 3)[0]
    spec = charts.representation_figure(z, torch.zeros(10, dtype=torch.long))
    eye = spec["layout"]["scene"]["camera"]["eye"]
    assert abs(eye["x"] + eye["y"]) < 0.05  # at right angles to o = (1, 1, 1)/√3 seen from above


def test_live_figures_show_p_when_asked_and_keep_the_camera_of_the_run():
    run = LiveRun([preset("simsiam"), preset("no-predictor")], config_of(DEFAULTS), seed=0)
    first = charts.live_figures_of(run, 0, view="p")
    (points,) = [t for t in first["picture"]["data"] if t.get("name") in ("Z", "P")]
    assert points["name"] == "P"
    z, p = run.sims[0].representations()
    assert points["x"][0] == pytest.approx(float(metrics.normalize(p[0])[0, 0]), abs=1e-3)
    (fallback,) = [t for t in charts.live_figures_of(run, 1, view="p")["picture"]["data"]
                   if t.get("name") in ("Z", "P")]
    assert fallback["name"] == "Z"  # no predictor: Z
    run.tick(steps=30)
    later = charts.live_figures_of(run, 0, view="p")
    assert (later["picture"]["layout"]["scene"]["camera"]
            == first["picture"]["layout"]["scene"]["camera"])


def test_gradient_and_covariance_figures():
    parts = {"basic  B": ("basic", 1.0), "extra, center  |o_e|": ("center", float("nan"))}
    spec = _valid(charts.gradient_figure(parts))
    (bars,) = spec["data"]
    assert bars["y"] == list(parts)
    assert bars["x"] == [1.0, None]
    z, _ = _points(200, 5)
    spec = _valid(charts.covariance_figure(z))
    heatmap, spectrum = spec["data"]
    assert len(heatmap["z"]) == len(heatmap["z"][0]) == 5
    assert heatmap["z"][0][0] == pytest.approx(1.0)
    assert spectrum["y"] == sorted(spectrum["y"], reverse=True)
