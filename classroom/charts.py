"""Plotly figures of the app: fast to redraw (a few ms), drawn from the shared metrics only.

Matplotlib stays for static exports (toy.plots). Every figure keeps a fixed ``uirevision`` so a
student's zoom or camera survives the redraws of a live run.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from collapse import metrics
from collapse.criterion import COLLAPSED_STD_SCALED
from toy.plots import principal_plane

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94")
MAX_POINTS = 512  # points drawn per representation picture (of the 1024 held-out points)


def _colours(labels: np.ndarray) -> list[str]:
    return [PALETTE[int(k) % len(PALETTE)] for k in labels]


def representation_figure(z: torch.Tensor, labels: torch.Tensor, height: int = 420) -> go.Figure:
    """Z = z/|z| on the circle (d = 2), the sphere (d = 3) or an uncentred PCA plane (d > 3),
    coloured by the hidden class, with the center vector o drawn as an arrow."""
    u = metrics.normalize(z[:MAX_POINTS].detach().double()).numpy()
    colours = _colours(labels[:MAX_POINTS].numpy())
    o = u.mean(axis=0)
    d = u.shape[1]
    fig = go.Figure()
    if d == 3:
        a = np.linspace(0, 2 * math.pi, 37)
        for lat in np.linspace(-60, 60, 5):  # a light wireframe of the sphere
            r, h = math.cos(math.radians(lat)), math.sin(math.radians(lat))
            fig.add_trace(go.Scatter3d(x=r * np.cos(a), y=r * np.sin(a), z=np.full_like(a, h),
                                       mode="lines", line={"color": "#ccc", "width": 1},
                                       hoverinfo="skip", showlegend=False))
        for lon in np.linspace(0, math.pi, 6, endpoint=False):
            fig.add_trace(go.Scatter3d(x=np.cos(lon) * np.cos(a), y=np.sin(lon) * np.cos(a),
                                       z=np.sin(a), mode="lines",
                                       line={"color": "#ccc", "width": 1},
                                       hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter3d(x=u[:, 0], y=u[:, 1], z=u[:, 2], mode="markers",
                                   marker={"size": 3, "color": colours}, name="Z",
                                   showlegend=False))
        fig.add_trace(go.Scatter3d(x=[0, o[0]], y=[0, o[1]], z=[0, o[2]],
                                   mode="lines+markers+text", text=["", "o"],
                                   line={"color": "black", "width": 8},
                                   marker={"size": [0, 5], "color": "black"}, name="center o",
                                   showlegend=False))
        axis = {"range": [-1.1, 1.1], "showticklabels": False, "title": ""}
        fig.update_layout(scene={"xaxis": axis, "yaxis": axis, "zaxis": axis,
                                 "aspectmode": "cube"})
    else:
        if d == 2:
            xy, oxy, title = u, o, ("Z₁", "Z₂")
        else:
            plane, share = principal_plane(u)
            xy, oxy = u @ plane.T, o @ plane.T
            title = (f"PC1 ({share[0]:.0%} of |Z|², uncentred PCA of d = {d})",
                     f"PC2 ({share[1]:.0%})")
        a = np.linspace(0, 2 * math.pi, 120)
        fig.add_trace(go.Scattergl(x=np.cos(a), y=np.sin(a), mode="lines",
                                   line={"color": "#bbb", "width": 1,
                                         "dash": "solid" if d == 2 else "dash"},
                                   hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers",
                                   marker={"size": 5, "color": colours}, showlegend=False))
        fig.add_annotation(x=oxy[0], y=oxy[1], ax=0, ay=0, xref="x", yref="y", axref="x",
                           ayref="y", showarrow=True, arrowhead=3, arrowwidth=3, text="o")
        fig.update_xaxes(range=[-1.15, 1.15], title=title[0], zeroline=False)
        fig.update_yaxes(range=[-1.15, 1.15], title=title[1], scaleanchor="x", zeroline=False)
    fig.update_layout(height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      uirevision="representation")
    return fig


def _series(curves: dict[str, list[list[float]]], key: str) -> np.ndarray:
    return np.array([row[0] for row in curves.get(key, [])], dtype=float)


def curves_figure(curves: dict[str, list[list[float]]], dim: int, knn: list[tuple[int, float]],
                  chance: float, height: int = 460) -> go.Figure:
    """The decomposition over training: |o|² + mean|r|² = 1, std·√d vs 1, effective rank vs d,
    loss, kNN vs chance."""
    steps = _series(curves, "step")
    fig = make_subplots(rows=2, cols=3, subplot_titles=(
        "|o|² (center) + mean|r|² (residual) = 1", "std(Z)·√d  (1 = isotropic)",
        f"effective rank (of d = {dim})", "loss", "kNN accuracy (dotted: chance)",
        "|o_e|/|o|: de-centering strength"), vertical_spacing=0.16)
    o2 = _series(curves, "z_center_norm") ** 2
    fig.add_trace(go.Scatter(x=steps, y=o2, stackgroup="e", name="|o|²",
                             line={"color": "#d62728"}), 1, 1)
    fig.add_trace(go.Scatter(x=steps, y=1 - o2, stackgroup="e", name="mean|r|²",
                             line={"color": "#1f77b4"}), 1, 1)
    for key, name, colour in (("z_std_scaled", "Z", "#1f77b4"), ("p_std_scaled", "P", "#ff7f0e")):
        if key in curves:
            fig.add_trace(go.Scatter(x=steps, y=_series(curves, key), name=f"std·√d {name}",
                                     line={"color": colour}), 1, 2)
    fig.add_hline(y=1, line_dash="dot", line_color="gray", row=1, col=2)
    fig.add_hline(y=COLLAPSED_STD_SCALED, line_dash="dash", line_color="#d62728", row=1, col=2)
    fig.add_trace(go.Scatter(x=steps, y=_series(curves, "z_effective_rank"), name="rank Z",
                             line={"color": "#2ca02c"}), 1, 3)
    fig.add_hline(y=dim, line_dash="dot", line_color="gray", row=1, col=3)
    fig.add_trace(go.Scatter(x=steps, y=_series(curves, "loss"), name="loss",
                             line={"color": "#555"}), 2, 1)
    if knn:
        fig.add_trace(go.Scatter(x=[s for s, _ in knn], y=[a for _, a in knn], name="kNN",
                                 mode="lines+markers", line={"color": "#9467bd"}), 2, 2)
    fig.add_hline(y=chance, line_dash="dot", line_color="gray", row=2, col=2)
    if "grad_extra_center_norm" in curves:
        ratio = _series(curves, "grad_extra_center_norm") / np.maximum(
            _series(curves, "grad_anchor_center_norm"), 1e-12)
        fig.add_trace(go.Scatter(x=steps, y=ratio, name="|o_e|/|o|",
                                 line={"color": "#8c564b"}), 2, 3)
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(range=[0, 1.1], row=1, col=2)
    fig.update_yaxes(range=[0, dim + 0.5], row=1, col=3)
    fig.update_yaxes(range=[0, 1.02], row=2, col=2)
    fig.update_layout(height=height, showlegend=False, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      uirevision="curves")
    fig.update_annotations(font_size=12)
    return fig


def gradient_figure(parts: dict[str, float], height: int = 260) -> go.Figure:
    """The gradient the anchor receives now: basic vs the extra gradient's center (de-centering)
    and residual (de-correlation) parts (paper §3); for InfoNCE also -o/τ and -Σλr/τ (§4)."""
    names = list(parts)
    fig = go.Figure(go.Bar(x=[parts[n] for n in names], y=names, orientation="h",
                           marker_color=["#7f7f7f", "#d62728", "#1f77b4", "#ff9896",
                                         "#aec7e8"][:len(names)],
                           text=[f"{parts[n]:.3f}" for n in names], textposition="auto"))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_title="mean magnitude per sample", uirevision="gradient")
    fig.update_yaxes(autorange="reversed")
    return fig


def covariance_figure(z: torch.Tensor, height: int = 260) -> go.Figure:
    """Correlation heatmap of Z's dimensions and its covariance eigen-spectrum."""
    corr = metrics.correlation(z).numpy()
    spectrum = metrics.eigenspectrum(z).numpy()
    fig = make_subplots(rows=1, cols=2, subplot_titles=("correlation of Z's dimensions",
                                                        "covariance eigenvalues"))
    fig.add_trace(go.Heatmap(z=corr, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                             showscale=False), 1, 1)
    fig.add_trace(go.Bar(y=spectrum, marker_color="#2ca02c"), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_layout(height=height, showlegend=False, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      uirevision="covariance")
    fig.update_annotations(font_size=12)
    return fig
