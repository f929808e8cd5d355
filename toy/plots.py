"""Figures of a toy run, drawn from the shared metrics of :mod:`collapse.metrics`.

- :func:`plot_representations`: the normalised representations Z on the circle (d = 2), on the
  sphere (d = 3) or projected to 2-D (d > 3), with the center vector ``o = E[Z]`` as an arrow
  (Zhang et al. 2022, §3: ``Z = o + r``; collapse means ``|o| -> 1``).
- :func:`plot_curves`: the training history of :meth:`toy.train.Simulation.curves`, one thin line
  per seed: the split ``|o|^2 + mean |r|^2 = 1``, std * sqrt(d), effective rank, loss and the
  gradient decomposition (basic, extra center o_e, extra residual r_e; paper §3).

Figures are plain :class:`matplotlib.figure.Figure` objects rendered by the Agg canvas: nothing is
registered with pyplot, so no global backend is switched and no figure outlives its function.
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from collapse import metrics
from collapse.criterion import COLLAPSED_STD_SCALED, DIMENSIONAL_RANK_FRACTION, collapse_state

DPI = 110


def _save(fig: Figure, path: str | os.PathLike[str]) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, format="png")
    fig.clear()


def principal_plane(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The top two right-singular vectors of the unit vectors ``u`` (N, d) and their share of
    ``|Z|^2``: an *uncentred* PCA, so a dominant center ``o`` keeps its length in the view."""
    _, sigma, vh = np.linalg.svd(u, full_matrices=False)
    return vh[:2], (sigma**2 / (sigma**2).sum())[:2]


def view_along(v: np.ndarray) -> tuple[float, float]:
    """(elevation, azimuth) in degrees of a 3-D camera that looks at the origin from ``v``."""
    v = v / np.linalg.norm(v)
    return (math.degrees(math.asin(float(np.clip(v[2], -1, 1)))),
            math.degrees(math.atan2(v[1], v[0])))


def plot_representations(z: Tensor, labels: Tensor | None, path: str | os.PathLike[str],
                         title: str, view: tuple[float, float] | None = None) -> None:
    """Scatter of the unit vectors ``Z = z/|z|`` of ``z`` (N, d), coloured by ``labels`` (N,).

    d = 2: points on the unit circle; d = 3: points on a wireframe sphere, seen along the
    direction in which Z varies least (so its spread faces the viewer); d > 3: the projection
    onto the top two right-singular vectors of Z (an *uncentred* PCA, the SVD that the effective
    rank uses), so that the center ``o`` keeps its length when it dominates: a collapsed Z shows
    as one spot at the tip of an arrow of length ~1, as on the sphere. ``view`` (elevation,
    azimuth; see :func:`view_along`) fixes the camera at d = 3, so that two pictures that are
    compared are seen from the same side.
    """
    if z.ndim != 2 or z.shape[-1] < 2:
        raise ValueError(f"z must have shape (N, d) with d >= 2, got {tuple(z.shape)}")
    if labels is not None and labels.shape != z.shape[:1]:
        raise ValueError(f"labels must have shape ({z.shape[0]},), got {tuple(labels.shape)}")
    n, d = z.shape
    s = metrics.summary(z)
    state = collapse_state(s["std_scaled"], s["effective_rank"], d)
    u = metrics.normalize(z.detach().double().cpu()).numpy()
    o = u.mean(axis=0)
    if labels is None:
        colour: dict[str, object] = {"color": "C0"}
    elif int(labels.max()) < 20:  # one tab20 colour per class
        colour = {"c": labels.cpu().numpy(), "cmap": "tab20", "vmin": -0.5, "vmax": 19.5}
    else:
        colour = {"c": labels.cpu().numpy(), "cmap": "viridis"}
    circle = np.linspace(0, 2 * math.pi, 200)

    fig = Figure(figsize=(5.6, 5.6))
    if d == 3:
        ax = fig.add_subplot(projection="3d")
        a, b = np.meshgrid(np.linspace(0, 2 * math.pi, 25), np.linspace(0, math.pi, 13))
        ax.plot_wireframe(np.cos(a) * np.sin(b), np.sin(a) * np.sin(b), np.cos(b),
                          color="0.6", linewidth=0.4, alpha=0.5)
        ax.scatter(u[:, 0], u[:, 1], u[:, 2], s=7, alpha=0.85, **colour)
        ax.quiver(0, 0, 0, *o, color="black", linewidth=2.5, arrow_length_ratio=0.15)
        ax.text(*(o * 1.15 if np.linalg.norm(o) > 0.05 else (0.05, 0.05, 0.05)), "o",
                fontsize=12, fontweight="bold")
        for setter in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
            setter(-1, 1)
        for setter in (ax.set_xticks, ax.set_yticks, ax.set_zticks):
            setter([-1, 0, 1])
        ax.set_box_aspect((1, 1, 1))
        if view is None:  # look along the direction of least energy: the spread faces us
            v = np.linalg.svd(u, full_matrices=False)[2][-1]
            view = view_along(v if v @ o >= 0 else -v)
        ax.view_init(elev=view[0], azim=view[1])
        ax.set_xlabel("Z₁")
        ax.set_ylabel("Z₂")
        ax.set_zlabel("Z₃")
    else:
        ax = fig.add_subplot()
        if d == 2:
            xy, oxy = u, o
            ax.set_xlabel("Z₁")
            ax.set_ylabel("Z₂")
        else:
            plane, share = principal_plane(u)
            xy, oxy = u @ plane.T, o @ plane.T
            for k, set_label in enumerate((ax.set_xlabel, ax.set_ylabel)):
                set_label(f"PC{k + 1} of Z (uncentred PCA, d = {d}; {share[k]:.0%} of |Z|²)")
        ax.plot(np.cos(circle), np.sin(circle), color="0.6", linewidth=0.8,
                linestyle="-" if d == 2 else "--")
        ax.scatter(xy[:, 0], xy[:, 1], s=7, alpha=0.85, **colour)
        ax.annotate("", xy=tuple(oxy), xytext=(0, 0),
                    arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 2.5})
        tip = oxy * 1.12 if np.linalg.norm(oxy) > 0.05 else np.array([0.04, 0.04])
        ax.text(*tip, "o", fontsize=12, fontweight="bold")
        ax.set_xlim(-1.15, 1.15)
        ax.set_ylim(-1.15, 1.15)
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
    ax.set_title(f"{title}\nstd·√d = {s['std_scaled']:.2f}   |o| = {s['center_norm']:.2f}   "
                 f"eff. rank = {s['effective_rank']:.2f} / {d}   ({state})", fontsize=10)
    fig.text(0.5, 0.01, f"{n} held-out points, Z = z/|z|; colour: hidden class; "
             "arrow: center o = mean Z", ha="center", fontsize=8, color="0.3")
    _save(fig, path)


def _series(curves: dict[str, list[list[float]]], key: str) -> np.ndarray:
    """(records, members) floats; ``None`` (a NaN written as JSON null) becomes NaN."""
    return np.array(curves[key], dtype=float).reshape(len(curves[key]), -1)


def _lines(ax, step: np.ndarray, values: np.ndarray, label: str, colour: str,
           style: str = "-") -> None:
    """One thin line per member; only the first carries the legend label."""
    alpha = 1.0 if values.shape[1] == 1 else 0.7
    for m in range(values.shape[1]):
        ax.plot(step, values[:, m], style, color=colour, linewidth=1.0, alpha=alpha,
                label=label if m == 0 else None)


def plot_curves(curves: dict[str, list[list[float]]], path: str | os.PathLike[str], title: str,
                dim: int, gradient: bool = True) -> None:
    """The history of a run (``Simulation.curves()``, or its JSON) against the step.

    Panels: the energy split ``|o|^2 + mean_i |r_i|^2 = 1`` (exact for unit vectors, so the
    residual share is drawn as ``1 - |o|^2`` from the recorded ``z_center_norm``); the paper's
    magnitudes ``m_o = |o|`` and ``m_r = mean_i |r_i|``; std * sqrt(d)
    of z (and p) against 1 (healthy, std = 1/sqrt(d)) and the collapse threshold; effective rank
    against d; the loss; and, when recorded and ``gradient`` is True, the gradient
    decomposition.
    """
    step = _series(curves, "step")[:, 0]
    panels = ["energy", "magnitude", "std", "rank", "loss"]
    if gradient and "grad_basic_norm" in curves:
        panels.append("grad")
    cols = 3 if len(panels) > 4 else 2
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.8 * cols, 3.5 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    has_p = "p_std_scaled" in curves

    for ax, panel in zip(axes, panels, strict=False):
        if panel == "energy":
            o2 = _series(curves, "z_center_norm") ** 2
            mean_o2 = np.nanmean(o2, axis=1) if o2.shape[1] > 1 else o2[:, 0]
            over = " (mean of seeds)" if o2.shape[1] > 1 else ""
            ax.stackplot(step, mean_o2, 1 - mean_o2, colors=("C3", "C0"), alpha=0.35,
                         labels=(f"|o|² center{over}",
                                 f"mean|r|² residual = 1 − |o|²{over}"))
            if o2.shape[1] > 1:
                _lines(ax, step, o2, "|o|² per seed", "C3")
            ax.set_ylim(0, 1)
            ax.set(title="energy of Z = o + r: |o|² + mean|r|² = 1",
                   ylabel="share of |Z|² = 1")
        elif panel == "magnitude":
            _lines(ax, step, _series(curves, "z_center_norm"), "m_o = |o|", "C3")
            _lines(ax, step, _series(curves, "z_residual_norm"), "m_r = mean|r|", "C0")
            ax.set_ylim(0, 1.05)
            ax.set(title="center and residual magnitude of Z (paper §3)", ylabel="m_o, m_r")
        elif panel == "std":
            _lines(ax, step, _series(curves, "z_std_scaled"), "Z", "C0")
            if has_p:
                _lines(ax, step, _series(curves, "p_std_scaled"), "P", "C1", "--")
            ax.axhline(1.0, color="0.4", linestyle="--", linewidth=0.8,
                       label="healthy: std·√d = 1 (std = 1/√d)")
            ax.axhline(COLLAPSED_STD_SCALED, color="C3", linestyle="--", linewidth=0.8,
                       label=f"collapsed below {COLLAPSED_STD_SCALED:g}")
            ax.set_ylim(bottom=0)
            ax.set(title="std·√d of Z" + (" and P" if has_p else ""), ylabel="std·√d")
        elif panel == "rank":
            _lines(ax, step, _series(curves, "z_effective_rank"), "Z", "C0")
            if has_p:
                _lines(ax, step, _series(curves, "p_effective_rank"), "P", "C1", "--")
            ax.axhline(dim, color="0.4", linestyle="--", linewidth=0.8, label=f"d = {dim}")
            if DIMENSIONAL_RANK_FRACTION * dim > 1:  # the effective rank is never below 1
                ax.axhline(DIMENSIONAL_RANK_FRACTION * dim, color="C3", linestyle=":",
                           linewidth=0.8,
                           label=f"dimensional collapse < {DIMENSIONAL_RANK_FRACTION:g}d")
            ax.set_ylim(0, dim * 1.08)
            ax.set(title="effective rank (RankMe)", ylabel="effective rank")
        elif panel == "loss":
            _lines(ax, step, _series(curves, "loss"), "loss", "C2")
            ax.set(title="loss", ylabel="loss")
        else:
            for key, label, colour in (
                    ("grad_basic_norm", "basic  mean|B|", "C0"),
                    ("grad_extra_center_norm", "extra center  |o_e|", "C3"),
                    ("grad_extra_residual_norm", "extra residual  mean|r_e|", "C2")):
                if key in curves:
                    _lines(ax, step, _series(curves, key), label, colour)
            ax.set_ylim(bottom=0)
            ax.set(title="gradient of the anchor (paper §3)", ylabel="norm")
        ax.set_xlabel("step")
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=11)
    _save(fig, path)
